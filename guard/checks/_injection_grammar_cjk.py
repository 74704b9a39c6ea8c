"""Override, role-hijack and prompt-leak grammar in Chinese, Japanese and Korean.

Written from the languages, not from any data set's rows. Chinese is listed in both
simplified and traditional characters (folding does not map one to the other). These
scripts have no spaces, so gaps count characters (:mod:`._injection_grammar_lang`).
Generic objects ("content", "text above") only count with a qualifier, and only the
verbs of repeating read "the text above" as a leak: "translate the text above" is an
ordinary request.
"""

from __future__ import annotations

from guard.checks._injection_grammar_lang import (
    CJK_SHORT,
    LEAK,
    LangSignal,
    either_order,
    folded,
    leak_signals,
    override_signals,
    role_signals,
    words,
)

# -- Chinese ---------------------------------------------------------------------------
_ZH_VERBS = (
    "忽略|忽视|忽視|无视|無視|不要理会|不要理會|不用理会|不用理會|不必理会|不必理會|别理|別理"
    "|不理会|不理會|忘记|忘記|忘掉|抛开|拋開|抛弃|拋棄|放弃|放棄|跳过|跳過|丢弃|丟棄|丢掉|丟掉"
    "|舍弃|捨棄|摒弃|摒棄|撇开|撇開|绕过|繞過|违背|違背|不要遵守|不再遵守|不要遵循|不再遵循"
    "|不要遵从|不要遵從|不要服从|不要服從|不用遵守|不必遵守|无需遵守|無需遵守|停止遵守"
    "|不要听从|不要聽從|不要执行|不要執行",
)
_ZH_QUALIFIERS = (
    "之前|以前|先前|此前|上面|上述|前面|以上|所有|一切|全部|系统|系統|原来|原來|原有|原始|最初"
    "|初始|早先|开发者|開發者|给你的|給你的|你收到的|你得到的",
)
_ZH_OBJECTS = (
    "指令|指示|说明|說明|规则|規則|提示词|提示詞|提示|命令|要求|设定|設定|规定|規定|限制|准则"
    "|準則|守则|守則|指引|指南|约束|約束|政策|内容|內容|对话|對話|消息|訊息|信息|資訊",
)
#: Objects a bare verb may take ("ignore your rules"): not "prompt/hint" (提示), which
#: software messages ask to ignore.
_ZH_PLAIN_OBJECTS = (
    "你的指令|你的指示|你的规则|你的規則|你的设定|你的設定|你的限制|系统提示|系統提示|提示词"
    "|提示詞|系统指令|系統指令|安全准则|安全準則|安全限制|道德限制|道德准则|道德準則",
)
_ZH_VOID = folded(
    words(*_ZH_QUALIFIERS)
    + CJK_SHORT
    + words(*_ZH_OBJECTS)
    + CJK_SHORT
    + words(
        "作废|作廢|无效|無效|失效|不再适用|不再適用|不再有效|被取消|被撤销|被撤銷|不算数|不算數"
        "|已取消|不用管|不重要"
    )
)
_ZH_OBJECT_FIRST = folded(
    words("把|将|將|对|對")
    + CJK_SHORT
    + words(*_ZH_QUALIFIERS)
    + CJK_SHORT
    + words(*_ZH_OBJECTS)
    + CJK_SHORT
    + words(*_ZH_VERBS, "忘了|不管|不用管|抛诸脑后|拋諸腦後")
)
_ZH_SYSTEM_OBJECTS = (
    "系统提示|系統提示|系统指令|系統指令|系统消息|系統訊息|系统设定|系統設定|初始指令|初始提示"
    "|原始指令|原始提示|最初的指令|最初的提示|隐藏的指令|隱藏的指令|隐藏指令|隱藏指令|隐藏的提示"
    "|隱藏的提示|你的指令|你的提示词|你的提示詞|你的设定|你的設定|你的规则|你的規則|你的指示"
    "|你收到的指令|给你的指令|給你的指令|预设提示|預設提示|前置提示|开发者指令|開發者指令",
)
_ZH_SHOW = (
    "告诉我|告訴我|显示|顯示|输出|輸出|打印|重复|重複|透露|泄露|洩露|泄漏|洩漏|说出|說出|列出"
    "|展示|给我看|給我看|复述|複述|写出|寫出|公开|公開|翻译|翻譯|逐字|原样|原樣|分享|发给我"
    "|發給我|贴出|貼出|背诵|背誦|是什么|是什麼|有哪些",
)
_ZH_REPEAT = ("重复|重複|复述|複述|原样|原樣|逐字|打印|输出|輸出|照抄|一字不差",)
_ZH_TEXT_BEFORE = (
    "上面的文字|上面的内容|上面的內容|上面的文本|以上文字|以上内容|以上內容|以上所有|前面的文字"
    "|前面的内容|前面的內容|之前的所有内容|之前的所有內容",
)
CHINESE: tuple[LangSignal, ...] = (
    *override_signals(_ZH_VERBS, _ZH_QUALIFIERS, _ZH_OBJECTS, cjk=True)[:1],
    ("override", 0.6, folded(words(*_ZH_VERBS) + CJK_SHORT + words(*_ZH_PLAIN_OBJECTS))),
    ("override", 0.85, _ZH_OBJECT_FIRST),
    ("override", 0.75, _ZH_VOID),
    *role_signals(
        (
            "你现在是|你現在是|从现在开始,?你是|從現在開始,?你是|从现在起,?你是|從現在起,?你是"
            "|从此你是|從此你是|你不再是|从现在开始,?你将|從現在開始,?你將",
        ),
        (
            "扮演|假装|假裝|充当|充當|模拟|模擬|作为|作為|成为|成為|变成|變成|你是|你现在是"
            "|你現在是|角色",
        ),
        (
            "没有任何限制|沒有任何限制|不受任何限制|没有限制|沒有限制|无限制|無限制|不受限制"
            "|没有任何约束|沒有任何約束|不受约束|不受約束|没有道德|沒有道德|没有审查|沒有審查"
            "|不受审查|不受審查|无视规则|無視規則|没有过滤|沒有過濾|不受规则|不受規則|无视道德"
            "|無視道德|不受道德|没有底线|沒有底線",
        ),
        cjk=True,
    ),
    (
        "role_hijack",
        0.6,
        folded(
            "你"
            + words("不再|不必|不需要|无需|無需|不用")
            + words("遵守|遵循|受|受到|服从|服從|理会|理會")
            + CJK_SHORT
            + words("规则|規則|限制|约束|約束|政策|准则|準則|指令|道德|伦理|倫理|审查|審查")
        ),
    ),
    (
        "role_hijack",
        0.55,
        folded(
            words("不要|不能|不得|永远不要|永遠不要|绝不|絕不|不许|不許|禁止") + "(?:拒绝|拒絕)"
        ),
    ),
    ("role_hijack", 0.3, folded("开发者模式|開發者模式|越狱|越獄")),
    *leak_signals(_ZH_SHOW, _ZH_SYSTEM_OBJECTS, order="both", cjk=True),
    ("prompt_leak", LEAK, either_order(_ZH_REPEAT, _ZH_TEXT_BEFORE, cjk=True)),
    (
        "prompt_leak",
        0.6,
        folded(
            "你"
            + words("被|收到了?|得到了?")
            + words("告知|指示|要求|交代|吩咐")
            + "了?"
            + words("什么|什麼")
            + "|"
            + words("一开始|一開始|最初|之前")
            + ".{0,4}?"
            + words("告诉|告訴|给|給")
            + "了?你"
            + words("什么|什麼")
        ),
    ),
    (
        "prompt_leak",
        0.6,
        either_order(
            ("密码|密碼|口令|暗号|暗號|密钥|密鑰|秘密词|秘密詞",),
            ("是什么|是什麼|告诉我|告訴我|说出|說出|给我|給我|拼出",),
            cjk=True,
        ),
    ),
)

# -- Japanese ---------------------------------------------------------------------------
_JA_QUALIFIERS = (
    "以前の|前の|これまでの|今までの|上記の|上の|先ほどの|先程の|すべての|全ての|全部の|あらゆる"
    "|システムの|元の|最初の|初期の|与えられた|既存の|前述の|事前の",
)
_JA_OBJECTS = (
    "指示|命令|ルール|規則|指令|プロンプト|設定|制約|ガイドライン|制限|ポリシー|方針|内容|文章"
    "|テキスト|会話",
)
_JA_VERBS = (
    "無視|忘れ|従わな|従うな|破棄|捨て|無効に|取り消|キャンセル|気にしな|守らな|放棄|リセット",
)
_JA_SYSTEM_OBJECTS = (
    "システムプロンプト|システムメッセージ|初期プロンプト|最初のプロンプト|元のプロンプト"
    "|最初の指示|元の指示|初期の指示|隠された指示|隠し指示|秘密の指示|あなたの指示|あなたへの指示"
    "|あなたのプロンプト|あなたの設定|あなたのルール|与えられた指示|受け取った指示|事前の指示"
    "|上記の指示|これまでの指示",
)
JAPANESE: tuple[LangSignal, ...] = (
    *override_signals(_JA_VERBS, _JA_QUALIFIERS, _JA_OBJECTS, verb_last=True, cjk=True)[:1],
    (
        "override",
        0.7,
        folded(
            words("指示|命令|指令|プロンプト|ガイドライン|制約")
            + "[はをにも]?"
            + CJK_SHORT
            + words("無視|忘れ|破棄|捨て")
        ),
    ),
    (
        "override",
        0.75,
        folded(
            words(*_JA_QUALIFIERS)
            + CJK_SHORT
            + words(*_JA_OBJECTS)
            + CJK_SHORT
            + words("無効|取り消され|撤回|廃止|適用されません|適用されない")
        ),
    ),
    *role_signals(
        (
            "(?:あなたは|君は|お前は)(?:今から|これから|今後|もう)"
            "|(?:今から|これから|今後|以後|今日から)は?、?(?:あなたは|君は|お前は)",
        ),
        ("として|のように|になりきっ|のふりをし|を演じ|ロールプレイ|振る舞|振舞|なりきり",),
        (
            "制限のない|制限なし|制限がな|制約のない|制約なし|検閲のない|検閲なし|検閲されない"
            "|フィルターのない|フィルターなし|倫理的な制約のない|倫理を無視|ルールに縛られない"
            "|ルールのない|何でも答える|何でも話す|拒否しない",
        ),
        cjk=True,
    ),
    (
        "role_hijack",
        0.55,
        folded("(?:絶対に|決して)?(?:拒否しない|断らない|拒否してはいけ|断ってはいけ|拒否するな)"),
    ),
    ("role_hijack", 0.3, folded("開発者モード|脱獄|ジェイルブレイク")),
    *leak_signals(
        (
            "教えて|表示|見せて|出力|繰り返|書き出|書いて|公開|開示|印刷|そのまま|全文|一字一句"
            "|逐語|翻訳|共有|暴露|言って|示して|漏ら|は何|はなん|の内容は",
        ),
        _JA_SYSTEM_OBJECTS,
        order="ov",
        cjk=True,
    ),
    (
        "prompt_leak",
        LEAK,
        either_order(
            ("繰り返|そのまま|一字一句|逐語|全文|出力|印刷|書き出",),
            ("上記のテキスト|上記の文章|上記の内容|上の文章|上のテキスト|これまでの文章",),
            cjk=True,
        ),
    ),
    (
        "prompt_leak",
        0.6,
        either_order(
            ("パスワード|合言葉|暗証番号|秘密の言葉|秘密のキー",),
            ("教えて|言って|見せて|書いて|出力|は何|はなん",),
            cjk=True,
        ),
    ),
)

# -- Korean -----------------------------------------------------------------------------
_KO_QUALIFIERS = (
    "이전|앞의|앞서|위의|위에|모든|기존|시스템|처음|원래|최초|초기|주어진|받은|지금까지|앞에서",
)
_KO_OBJECTS = (
    "지시|지침|명령|규칙|프롬프트|설정|제한|제약|가이드라인|안내|지령|내용|대화|규정|정책",
)
_KO_VERBS = (
    "무시|잊어|잊고|잊으|따르지|지키지|버리|버려|취소|폐기|신경 ?쓰지|상관하지|개의치|어겨|어기",
)
_KO_SYSTEM_OBJECTS = (
    "시스템 ?프롬프트|시스템 메시지|초기 프롬프트|초기 지시|처음 지시|원래 지시|원래의 지시"
    "|최초 지시|숨겨진 지시|숨겨진 프롬프트|비밀 지시|너의 지시|네 지시|당신의 지시|너의 프롬프트"
    "|당신의 프롬프트|너의 설정|당신의 설정|받은 지시|주어진 지시|위의 지시",
)
KOREAN: tuple[LangSignal, ...] = (
    *override_signals(_KO_VERBS, _KO_QUALIFIERS, _KO_OBJECTS, verb_last=True, cjk=True)[:1],
    (
        "override",
        0.6,
        folded(
            words("지시|지시사항|지침|명령|프롬프트|지령|가이드라인")
            + "[을를은는도]? ?(?:전부 |모두 |다 )?"
            + words("무시|잊어|잊고|버려|폐기")
        ),
    ),
    (
        "override",
        0.75,
        folded(
            words(*_KO_QUALIFIERS)
            + CJK_SHORT
            + words(*_KO_OBJECTS)
            + CJK_SHORT
            + words("무효|취소되었|더 이상 적용되지|더 이상 유효하지|적용되지 않")
        ),
    ),
    *role_signals(
        (
            "(?:지금부터|이제부터|앞으로|오늘부터) ?(?:너는|넌|당신은)|(?:너는|넌|당신은) "
            "(?:이제|지금부터|이제부터)",
        ),
        ("역할|행동|처럼|인 척|로서|연기|흉내|역할극|롤플레이|되어",),
        (
            "제한 없는|제한이 없는|제한 없이|제약 없는|제약이 없는|제약 없이|검열 없는"
            "|검열되지 않은|필터 없는|필터링 없는|규칙이 없는|규칙 없는|규칙에 얽매이지 않는"
            "|윤리적 제약이 없는|어떤 제한도|무엇이든 답하는|모든 질문에 답하는",
        ),
        cjk=True,
    ),
    ("role_hijack", 0.55, folded("(?:절대|결코)? ?(?:거절하지|거부하지) ?(?:마|말|않)")),
    ("role_hijack", 0.3, folded("개발자 모드|탈옥")),
    *leak_signals(
        (
            "보여|알려|출력|반복|공개|말해|그대로|적어|인쇄|번역|복사|밝혀|누설|공유|뭐야|뭔가요"
            "|무엇",
        ),
        _KO_SYSTEM_OBJECTS,
        order="ov",
        cjk=True,
    ),
    (
        "prompt_leak",
        LEAK,
        either_order(
            ("반복|그대로|출력|인쇄|복사",),
            ("위의 텍스트|위의 내용|위의 글|위 텍스트|위 내용",),
            cjk=True,
        ),
    ),
    (
        "prompt_leak",
        0.6,
        either_order(
            ("비밀번호|암호|패스워드|비밀 단어|비밀 키|비밀키",),
            ("알려|말해|보여|뭐야|무엇|출력|적어",),
            cjk=True,
        ),
    ),
)

SIGNALS: tuple[LangSignal, ...] = (*CHINESE, *JAPANESE, *KOREAN)
