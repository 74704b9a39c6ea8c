"""Override, role-hijack and prompt-leak grammar in Bengali, Marathi and Nepali, Thai,
Greek, Hebrew, Persian, Urdu, Swahili and Tagalog.

Written from the languages, not from any data set's rows; shorter tables than the
languages of the other modules (the commonest verbs and nouns only). Thai has no spaces
between words: its gaps count characters, like CJK. Greek folds partly to Latin
look-alikes; :func:`._injection_grammar_lang.folded` reads both cases.
"""

from __future__ import annotations

from guard.checks._injection_grammar_lang import (
    LangSignal,
    leak_signals,
    override_signals,
    role_signals,
)

# -- Bengali ------------------------------------------------------------------------------
BENGALI: tuple[LangSignal, ...] = (
    *override_signals(
        ("উপেক্ষা কর|ভুলে যাও|ভুলে যান|অগ্রাহ্য কর|মেনো না|মানবেন না|অনুসরণ কোরো না|অনুসরণ করবেন না|বাদ দাও|বাদ দিন",),
        ("আগের|পূর্ববর্তী|সমস্ত|সব|সকল|উপরের|সিস্টেম|মূল|প্রাথমিক",),
        ("নির্দেশ|নির্দেশনা|নির্দেশাবলী|নিয়ম|আদেশ|প্রম্পট|নির্দেশিকা",),
        verb_last=True,
    ),
    *role_signals(
        ("এখন থেকে তুমি|এখন তুমি|এখন থেকে আপনি",),
        ("হিসেবে আচরণ|ভান কর|অভিনয়|ভূমিকা",),
        ("কোনো (?:বিধিনিষেধ|সীমাবদ্ধতা|নিয়ম|সেন্সর) ছাড়া|বিধিনিষেধহীন|সীমাহীন",),
    ),
    *leak_signals(
        ("দেখাও|দেখান|বলো|বলুন|লেখো|লিখুন|পুনরাবৃত্তি|প্রকাশ|অনুবাদ|কী",),
        ("সিস্টেম প্রম্পট|প্রাথমিক নির্দেশ|মূল নির্দেশ|তোমার নির্দেশ|আপনার নির্দেশ|গোপন নির্দেশ",),
        order="ov",
    ),
)

# -- Marathi and Nepali (Devanagari; Hindi is in ._injection_grammar_world) -----------------
MARATHI_NEPALI: tuple[LangSignal, ...] = override_signals(
    (
        "दुर्लक्ष करा|दुर्लक्ष कर|विसरून जा|विसरा|पाळू नका|पालन करू नका|बेवास्ता गर|बिर्सिदेऊ"
        "|बिर्स|नमान|पालना नगर",
    ),
    ("मागील|आधीच्या|सर्व|वरील|सिस्टम|मूळ|अघिल्ला|अघिल्लो|पहिलेका|सबै|माथिका|प्रणाली",),
    ("सूचना|निर्देश|नियम|आज्ञा|प्रॉम्प्ट|निर्देशन|आदेश",),
    verb_last=True,
)

# -- Thai (no spaces; the qualifier follows its noun) -------------------------------------------
THAI: tuple[LangSignal, ...] = (
    *override_signals(
        ("เพิกเฉย|ละเว้น|ลืม|ไม่ต้องสนใจ|อย่าสนใจ|ไม่ต้องทำตาม|อย่าทำตาม|ข้าม|ยกเลิก",),
        ("ก่อนหน้า|ทั้งหมด|ข้างต้น|เดิม|ของระบบ|ที่ผ่านมา",),
        ("คำสั่ง|คำแนะนำ|กฎ|ข้อกำหนด|ข้อจำกัด|พรอมต์",),
        qualifier_after=True,
        cjk=True,
    ),
    *role_signals(
        ("ตอนนี้คุณคือ|จากนี้ไปคุณคือ|ต่อจากนี้คุณ|ตอนนี้คุณเป็น",),
        ("แสร้งเป็น|สวมบทบาท|ทำตัวเป็น|ทำหน้าที่เป็น",),
        ("ไม่มีข้อจำกัด|ไร้ข้อจำกัด|ไม่มีการเซ็นเซอร์|ไม่มีกฎ|ไม่มีขีดจำกัด",),
        cjk=True,
    ),
    *leak_signals(
        ("แสดง|บอก|ทวน|พิมพ์|เปิดเผย|แปล",),
        ("พรอมต์ระบบ|คำสั่งระบบ|คำสั่งเริ่มต้น|คำแนะนำของคุณ|คำสั่งของคุณ|คำสั่งลับ",),
        cjk=True,
    ),
)

# -- Greek -------------------------------------------------------------------------------------
GREEK: tuple[LangSignal, ...] = (
    *override_signals(
        (
            "αγνόησε|αγνοήστε|ξέχασε|ξεχάστε|παράβλεψε|παραβλέψτε|μην ακολουθείς"
            "|μην ακολουθήσεις|μην ακολουθείτε",
        ),
        ("όλες|όλους|όλα|προηγούμενες|προηγούμενους|παραπάνω|αρχικές|του συστήματος",),
        ("οδηγίες|οδηγιών|κανόνες|κανόνων|εντολές|εντολών|προτροπή|περιορισμούς",),
    ),
    *role_signals(
        ("τώρα είσαι|από τώρα είσαι|από εδώ και πέρα είσαι|από τώρα και στο εξής είσαι",),
        ("προσποιήσου|υποδύσου|συμπεριφέρσου σαν|παίξε το ρόλο",),
        (
            "χωρίς (?:κανέναν |κανένα |καμία |καθόλου )?(?:περιορισμούς|περιορισμό|κανόνες"
            "|λογοκρισία|φίλτρα)",
        ),
    ),
    *leak_signals(
        ("δείξε|δείξτε|επανάλαβε|αποκάλυψε|πες μου|γράψε|μετάφρασε|εμφάνισε",),
        (
            "την προτροπή συστήματος|τις οδηγίες σου|τις οδηγίες συστήματος|τις αρχικές οδηγίες"
            "|τις κρυφές οδηγίες|το μήνυμα συστήματος",
        ),
    ),
)

# -- Hebrew (prefixes such as "מכל", from all, are written out) ----------------------------------
HEBREW: tuple[LangSignal, ...] = (
    *override_signals(
        ("התעלם|התעלמי|התעלמו|שכח|שכחי|שכחו|אל תציית|אל תצייתי|אל תעקוב|אל תפעל לפי",),
        ("כל|מכל|את כל|הקודמות|הקודמים|המקוריות|של המערכת",),
        ("ההוראות|הוראות|מההוראות|ההנחיות|הנחיות|הכללים|כללים|הפקודות",),
    ),
    *role_signals(
        ("מעכשיו אתה|אתה עכשיו|מעתה אתה|מעכשיו את",),
        ("התנהג כמו|העמד פנים|שחק את התפקיד|גלם את",),
        ("ללא (?:שום |כל )?(?:הגבלות|מגבלות|כללים|צנזורה|סינון)|בלי (?:שום )?(?:הגבלות|מגבלות)",),
    ),
    *leak_signals(
        ("הצג|הראה|תראה|חזור על|גלה|כתוב|תרגם|מה הן|מהן",),
        ("הנחיות המערכת|הוראות המערכת|הפרומפט|ההוראות שלך|ההנחיות שלך|ההוראות המקוריות",),
    ),
)

# -- Persian and Urdu (object before verb) -------------------------------------------------------
PERSIAN_URDU: tuple[LangSignal, ...] = (
    *override_signals(
        (
            "نادیده بگیر|نادیده بگیرید|فراموش کن|فراموش کنید|پیروی نکن|پیروی نکنید|اعتنا نکن"
            "|نظر انداز کر|بھول جا|بھول جائیں|پیروی نہ کر|عمل نہ کر",
        ),
        ("قبلی|همه|تمام|بالا|سیستم|اولیه|پچھلی|پچھلے|سب|اوپر|سسٹم|ابتدائی",),
        ("دستورالعمل|دستورات|دستور|قوانین|قواعد|پرامپت|ہدایات|ہدایت|احکامات|اصول|پرامپٹ",),
        verb_last=True,
    ),
    *leak_signals(
        ("نشان بده|نشان دهید|بگو|بنویس|تکرار کن|ترجمه کن|دکھاؤ|دکھائیں|بتاؤ|بتائیں|لکھو|دہراؤ",),
        (
            "پرامپت سیستم|دستورالعمل‌های سیستم|دستورات اولیه|دستورالعمل‌های تو|سسٹم پرامپٹ"
            "|اپنی ہدایات",
        ),
        order="ov",
    ),
)

# -- Swahili and Tagalog (Latin letters) ---------------------------------------------------------
SWAHILI_TAGALOG: tuple[LangSignal, ...] = (
    *override_signals(
        ("puuza|puuzeni|sahau|sahauni|usifuate|msifuate|achana na|acha kufuata",),
        (
            "yote|zote|iliyotangulia|yaliyotangulia|zilizotangulia|za awali|ya awali|za mfumo"
            "|ya mfumo|hapo juu",
        ),
        ("maagizo|maelekezo|sheria|amri|kanuni",),
        qualifier_after=True,
        boundary=r"\b",
    ),
    *override_signals(
        (
            "huwag pansinin|wag pansinin|balewalain|kalimutan|huwag sundin|wag sundin"
            "|isantabi|huwag intindihin",
        ),
        ("lahat|naunang|nakaraang|dating|itaas|sistema|orihinal",),
        (
            "tagubilin|instruksyon|instruksiyon|utos|panuto|patakaran|alituntunin|direksyon"
            "|mga tagubilin|mga instruksyon",
        ),
        boundary=r"\b",
    ),
    *role_signals(
        (r"\b(?:sasa wewe ni|kuanzia sasa wewe ni|ikaw ngayon ay|mula ngayon,? ikaw ay)\b",),
        (r"\b(?:jifanye|igiza|tenda kama|magpanggap|gumanap bilang|kumilos bilang)\b",),
        (
            r"\b(?:bila (?:vikwazo|mipaka|sheria|udhibiti)|walang (?:anumang )?(?:limitasyon"
            r"|paghihigpit|patakaran|censorship|filter))\b",
        ),
    ),
    *leak_signals(
        (
            r"\b(?:onyesha|rudia|niambie|andika|tafsiri|ipakita|ulitin|sabihin|isulat|ibunyag|isalin)\b",
        ),
        (
            r"\b(?:maagizo ya (?:mfumo|awali|siri)|maagizo yako|system prompt|iyong (?:mga )?"
            r"(?:tagubilin|instruksyon)|(?:orihinal|paunang) na (?:tagubilin|instruksyon))\b",
        ),
    ),
)

SIGNALS: tuple[LangSignal, ...] = (
    *BENGALI,
    *MARATHI_NEPALI,
    *THAI,
    *GREEK,
    *HEBREW,
    *PERSIAN_URDU,
    *SWAHILI_TAGALOG,
)
