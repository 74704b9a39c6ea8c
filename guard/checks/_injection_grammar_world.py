"""Override, role-hijack and prompt-leak grammar in Arabic, Hindi (Devanagari and
romanised), Vietnamese and Indonesian/Malay.

Written from the languages, not from any data set's rows. Arabic is written right to
left but stored in logical order, which is the order patterns read; its short vowels and
hamza marks are combining marks that folding drops, so one spelling covers them.
Devanagari vowel signs that are combining marks are dropped the same way on both sides
(:func:`._injection_grammar_lang.folded`). Vietnamese folds to ASCII (tones dropped).
"""

from __future__ import annotations

from guard.checks._injection_grammar_lang import (
    CLAUSE_END,
    LangSignal,
    leak_signals,
    override_signals,
    role_signals,
)

# -- Arabic ---------------------------------------------------------------------------------
_AR_OBJECTS = (
    "(?:ال)?تعليمات|(?:ال)?إرشادات|(?:ال)?ارشادات|(?:ال)?قواعد|(?:ال)?أوامر|(?:ال)?اوامر"
    "|(?:ال)?توجيهات|(?:ال)?قيود|(?:ال)?موجه|(?:ال)?تعليمة|(?:ال)?ضوابط|(?:ال)?سياسات"
    "|(?:ال)?إعدادات|(?:ال)?نص",
)
ARABIC: tuple[LangSignal, ...] = (
    *override_signals(
        (
            "تجاهل|تجاهلي|تجاهلوا|انس|انسى|انسي|إنس|تناس|لا تتبع|لا تتبعي|لا تلتزم|لا تلتزمي"
            "|لا تطع|أهمل|اهمل|تخط|تخطى|ألغ|الغ|تجاوز|اترك|تخل عن|لا تعر|لا تنفذ|لا تأخذ ب",
        ),
        ("السابقة|السابق|أعلاه|اعلاه|كل|جميع|النظام|الأصلية|الأولية|المذكورة|القديمة|المعطاة",),
        _AR_OBJECTS,
    ),
    (
        "override",
        0.85,
        "(?:انس|انسى|تجاهل|إنس) (?:كل|جميع) (?:ما|شيء) (?:سبق|قيل|ذكر|كتب)",
    ),
    *role_signals(
        ("أنت الآن|انت الآن|من الآن فصاعدا|من الآن أنت|من الآن انت|لم تعد",),
        (
            "تصرف ك|تصرفي ك|تظاهر|تظاهري|تقمص|مثل دور|العب دور|العبي دور|تقمص شخصية|أنت الآن"
            "|انت الآن",
        ),
        (
            "(?:بدون|بلا|دون) (?:أي |اي )?(?:قيود|حدود|رقابة|قواعد|فلاتر|ضوابط|أخلاق|اخلاق)"
            "|غير مقيد|لا يلتزم ب|لا تحكمه",
        ),
    ),
    ("role_hijack", 0.55, "لا ترفض أبدا|لا ترفض ابدا|لا ترفض أي|لا تعتذر"),
    *leak_signals(
        (
            "اكشف|أظهر|اظهر|اعرض|كرر|اطبع|أخبرني|اخبرني|قل لي|اكتب|أعطني|اعطني|ترجم|انسخ|شارك"
            "|ما هي|ما هو",
        ),
        (
            "موجه النظام|تعليمات النظام|رسالة النظام|التعليمات الأولية|التعليمات الأصلية"
            "|التعليمات المخفية|التعليمات السرية|تعليماتك|موجهك|الموجه الأولي|الأوامر الأولية"
            "|إرشاداتك|ارشاداتك",
        ),
    ),
    (
        "prompt_leak",
        0.6,
        "ما هي كلمة (?:السر|المرور)|(?:أخبرني|اخبرني|اعطني|أعطني) كلمة (?:السر|المرور)",
    ),
)

# -- Hindi ----------------------------------------------------------------------------------
_HI_OBJECTS = (
    "निर्देश|निर्देशों|नियम|नियमों|आदेश|आदेशों|प्रॉम्प्ट|प्रोम्प्ट|दिशानिर्देश|दिशानिर्देशों"
    "|हिदायत|हिदायतों|पाबंदी|पाबंदियों|प्रतिबंध|प्रतिबंधों",
)
HINDI: tuple[LangSignal, ...] = (
    *override_signals(
        (
            "अनदेखा कर|नज़रअंदाज़ कर|नजरअंदाज कर|भूल जा|भूल जाओ|भूल जाइए|पालन मत कर"
            "|पालन न कर|मत मान|न मान|ध्यान मत द|ध्यान न द|रद्द कर|छोड़ द|त्याग द",
        ),
        ("पिछले|पहले के|पहले|ऊपर|ऊपर के|ऊपर दिए|सभी|सारे|सिस्टम|मूल|प्रारंभिक|दिए गए",),
        _HI_OBJECTS,
        verb_last=True,
    ),
    (
        "override",
        0.85,
        r"\b(?:pichhle|pichle|pehle ke|upar ke|sabhi|saare|sare|sab)\s+(?:\w+\s+){0,2}?"
        r"(?:instructions?|rules|nirdesh|niyam|prompt)\s+(?:ko\s+)?(?:ignore|bhool|bhul"
        r"|nazarandaz|anadekha)\s*(?:karo|karein|karen|kar do|jao|jaao|jaiye|do)\b",
    ),
    *role_signals(
        ("अब तुम|अब आप|अब से तुम|अब से आप|आज से तुम|आज से आप",),
        ("की तरह व्यवहार|होने का नाटक|का किरदार|बनकर|की भूमिका|बन जाओ|बन जाइए",),
        (
            "बिना किसी (?:प्रतिबंध|सीमा|रोक|नियम|फ़िल्टर|फिल्टर|पाबंदी|सेंसर)|कोई (?:प्रतिबंध|सीमा"
            "|नियम|पाबंदी) नहीं",
        ),
    ),
    *leak_signals(
        (
            "दिखाओ|दिखाएं|दिखाइए|बताओ|बताएं|बताइए|दोहराओ|दोहराएं|प्रिंट|लिखो|लिखें|प्रकट|साझा"
            "|अनुवाद|क्या है|क्या हैं",
        ),
        (
            "सिस्टम प्रॉम्प्ट|सिस्टम प्रोम्प्ट|सिस्टम निर्देश|प्रारंभिक निर्देश|मूल निर्देश"
            "|अपने निर्देश|तुम्हारे निर्देश|आपके निर्देश|छिपे हुए निर्देश|गुप्त निर्देश",
        ),
        order="ov",
    ),
    (
        "prompt_leak",
        0.75,
        r"\b(?:apna|apne|tumhara|tumhare|aapka|aapke) (?:system prompt|instructions|nirdesh)"
        r" (?:dikhao|batao|likho|print karo|repeat karo)\b",
    ),
)

# -- Vietnamese -------------------------------------------------------------------------------
VIETNAMESE: tuple[LangSignal, ...] = (
    *override_signals(
        (
            "bỏ qua|phớt lờ|lờ đi|quên đi|hãy quên|không tuân theo|đừng tuân theo|đừng làm theo"
            "|không làm theo|gạt bỏ|bất chấp|hủy bỏ|vứt bỏ|đừng để ý|không cần tuân theo",
        ),
        ("tất cả|mọi|toàn bộ|trước đó|trước đây|ở trên|bên trên|phía trên|hệ thống|ban đầu|cũ",),
        (
            "hướng dẫn|chỉ dẫn|chỉ thị|quy tắc|mệnh lệnh|lệnh|lời nhắc|prompt|nguyên tắc"
            "|giới hạn|hạn chế|quy định|yêu cầu",
        ),
        boundary=r"\b",
    )[:1],
    (
        "override",
        0.6,
        r"\b(?:bo qua|phot lo|lo di|quen di|hay quen|khong tuan theo|dung tuan theo"
        r"|dung lam theo)\s+(?:cac |nhung |moi )?(?:huong dan|chi dan|chi thi|quy tac"
        r"|menh lenh|loi nhac|nguyen tac)\b",
    ),
    *role_signals(
        (r"\b(?:bay gio ban la|tu gio ban la|tu bay gio,? ban la|ke tu bay gio,? ban)\b",),
        (r"\b(?:hay dong vai|dong vai|gia vo la|gia vo|hanh dong nhu|dong vai tro)\b",),
        (
            r"\bkhong (?:co )?(?:bat ky |bat ki )?(?:gioi han|han che|kiem duyet|bo loc|quy tac"
            r"|rang buoc)\b",
        ),
    ),
    *leak_signals(
        (
            r"\b(?:hien thi|cho toi xem|tiet lo|lap lai|in ra|noi cho toi|cho toi biet|viet ra"
            r"|xuat ra|dich|chia se|la gi)\b",
        ),
        (
            r"\b(?:loi nhac he thong|prompt he thong|system prompt|huong dan (?:he thong|ban dau"
            r"|goc|an|bi mat|cua ban)|chi dan (?:ban dau|cua ban)|chi thi (?:ban dau|cua ban))\b",
        ),
    ),
)

# -- Indonesian / Malay ---------------------------------------------------------------------------
INDONESIAN: tuple[LangSignal, ...] = (
    *override_signals(
        (
            "abaikan|abaikanlah|lupakan|lupakanlah|jangan ikuti|jangan patuhi|jangan hiraukan"
            "|acuhkan|tinggalkan|buang|lewati|langgar|jangan turuti|tidak perlu mengikuti",
        ),
        (
            "semua|seluruh|segala|sebelumnya|di atas|awal|sistem|sebelum ini|terdahulu|lama"
            "|asli|yang diberikan",
        ),
        (
            "instruksi|petunjuk|perintah|aturan|peraturan|arahan|pedoman|prompt|batasan"
            "|ketentuan|sekatan|larangan",
        ),
        boundary=r"\b",
    ),
    *role_signals(
        (
            r"\b(?:sekarang (?:kamu|anda|awak) (?:adalah|ialah)|mulai sekarang,? (?:kamu|anda"
            r"|awak)|(?:kamu|anda) sekarang (?:adalah|menjadi)|kamu bukan lagi|anda bukan lagi)\b",
        ),
        (
            r"\b(?:berpura-pura(?:lah)?|bertindak(?:lah)? sebagai|berperan(?:lah)? sebagai"
            r"|berlakon sebagai|perankan|jadilah)\b",
        ),
        (r"\btanpa (?:ada )?(?:batasan|batas|sensor|filter|aturan|larangan|sekatan)\b",),
    ),
    *leak_signals(
        (
            r"\b(?:tampilkan|tunjukkan|ulangi|cetak|ungkapkan|beritahu|berikan|tuliskan"
            r"|sebutkan|terjemahkan|bocorkan|paparkan|apa)\b",
        ),
        (
            r"\b(?:prompt sistem|system prompt|instruksi (?:sistem|awal|asli|tersembunyi|rahasia)"
            r"|instruksimu|instruksi (?:anda|kamu)|petunjuk awal|arahan (?:sistem|awal)"
            r"|perintah awal)\b",
        ),
    ),
)

#: "What is the password?" in these languages (extraction games ask for a secret).
PASSWORD_ASK = (
    r"पासवर्ड (?:क्या है|बताओ|बताइए|बताएं|दो)|\bpassword (?:kya hai|batao|bataiye)\b"
    r"|\bmat khau (?:la gi|cua ban)|\b(?:cho toi|noi cho toi) (?:biet )?mat khau\b"
    r"|\b(?:apa|berikan|beritahu|sebutkan) (?:kata sandi|kata laluan|password)(?:nya)?\b"
    r"|\b(?:kata sandi|kata laluan)(?:nya)? (?:apa|adalah)\b"
)

SIGNALS: tuple[LangSignal, ...] = (
    ("prompt_leak", 0.6, f"(?:{PASSWORD_ASK}){CLAUSE_END}"),
    *ARABIC,
    *HINDI,
    *VIETNAMESE,
    *INDONESIAN,
)
