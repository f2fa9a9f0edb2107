using System.Collections.Frozen;

namespace LongCtx.Tokenization.ChatFormats;

/// <summary>
/// Every format of llama.cpp's <c>llm_chat_apply_template</c> (src/llama-chat.cpp), by the name
/// llama.cpp accepts for it (<c>LLM_CHAT_TEMPLATES</c>). Formats with no state between messages are
/// one <see cref="TurnFormat"/> line here; the others have a file each. "dots1" has no name in
/// llama.cpp: it is only reached by detection, so it is kept apart from <see cref="ByName"/>.
/// </summary>
internal static class BuiltinFormats
{
    private const string EndOfSentence = "<｜end▁of▁sentence｜>";

    /// <summary>dots.llm1.inst, recognised from template text only.</summary>
    public static readonly ChatFormat Dots1 = new TurnFormat("dots1", (role, _, _) => role switch
    {
        "system" => new("<|system|>", "<|endofsystem|>"),
        "user" => new("<|userprompt|>", "<|endofuserprompt|>"),
        _ => new("<|response|>", "<|endofresponse|>"),
    }, "<|response|>");

    /// <summary>The formats by llama.cpp's names, which <c>llama_chat_apply_template</c> also accepts in place of template text.</summary>
    public static readonly FrozenDictionary<string, ChatFormat> ByName = Create().ToFrozenDictionary(f => f.Name, StringComparer.Ordinal);

    /// <summary>llama.cpp's names in its own order (<c>std::map</c>, i.e. byte order), as <c>llama_chat_builtin_templates</c> lists them.</summary>
    public static readonly IReadOnlyList<string> Names = ByName.Keys.Order(StringComparer.Ordinal).ToArray();

    private static IEnumerable<ChatFormat> Create()
    {
        yield return new TurnFormat("chatml", (role, _, _) => new($"<|im_start|>{role}\n", "<|im_end|>\n"), "<|im_start|>assistant\n");

        yield return new Llama2Format("llama2", systemBlock: false, bosInHistory: false, strip: false);
        yield return new Llama2Format("llama2-sys", systemBlock: true, bosInHistory: false, strip: false);
        yield return new Llama2Format("llama2-sys-bos", systemBlock: true, bosInHistory: true, strip: false);
        yield return new Llama2Format("llama2-sys-strip", systemBlock: true, bosInHistory: false, strip: true);

        yield return new MistralFormat("mistral-v1", leadingSpace: " ", trailingSpace: " ", trimAssistant: false);
        yield return new MistralFormat("mistral-v3", leadingSpace: "", trailingSpace: " ", trimAssistant: true);
        yield return new MistralFormat("mistral-v3-tekken", leadingSpace: "", trailingSpace: "", trimAssistant: false);
        yield return MistralV7("mistral-v7", " ");
        yield return MistralV7("mistral-v7-tekken", "");

        yield return new TurnFormat("phi3", (role, _, _) => new($"<|{role}|>\n", "<|end|>\n"), "<|assistant|>\n");
        yield return new TurnFormat("phi4", (role, _, _) => new($"<|im_start|>{role}<|im_sep|>", "<|im_end|>"), "<|im_start|>assistant<|im_sep|>");
        yield return new TurnFormat("falcon3", (role, _, _) => new($"<|{role}|>\n", "\n"), "<|assistant|>\n");
        yield return new TurnFormat("zephyr", (role, _, _) => new($"<|{role}|>\n", "<|endoftext|>\n"), "<|assistant|>\n");
        // mlabonne/AlphaMonarch-7B: BOS inside the history, except before the first message (the tokenizer adds it).
        yield return new TurnFormat("monarch", (role, i, _) => new((i == 0 ? "" : "<s>") + role + "\n", "</s>\n"), "<s>assistant\n");
        yield return new GemmaFormat();
        yield return new OrionFormat();
        // openchat/openchat-3.5-0106: the role's first letter upper-cased (ASCII only, as C's toupper).
        yield return new TurnFormat("openchat", (role, _, _) => role == "system"
            ? new("", "<|end_of_turn|>")
            : new($"GPT4 Correct {AsciiCapitalize(role)}: ", "<|end_of_turn|>"), "GPT4 Correct Assistant:");
        yield return Vicuna("vicuna", systemPrefix: "", systemSuffix: "\n\n");
        yield return Vicuna("vicuna-orca", systemPrefix: "SYSTEM: ", systemSuffix: "\n");
        // deepseek-ai/deepseek-coder-33b-instruct
        yield return new TurnFormat("deepseek", (role, _, _) => role switch
        {
            "system" => new("", ""),
            "user" => new("### Instruction:\n", "\n"),
            "assistant" => new("### Response:\n", "\n<|EOT|>\n"),
            _ => null,
        }, "### Response:\n");
        yield return new TurnFormat("deepseek2", (role, _, _) => role switch
        {
            "system" => new("", "\n\n"),
            "user" => new("User: ", "\n\n"),
            "assistant" => new("Assistant: ", EndOfSentence),
            _ => null,
        }, "Assistant:");
        yield return new TurnFormat("deepseek3", (role, _, _) => role switch
        {
            "system" => new("", "\n\n"),
            "user" => new("<｜User｜>", ""),
            "assistant" => new("<｜Assistant｜>", EndOfSentence),
            _ => null,
        }, "<｜Assistant｜>");
        yield return new TurnFormat("deepseek-ocr", (_, _, _) => new("", ""));
        // CohereForAI/c4ai-command-r-plus
        yield return new TurnFormat("command-r", (role, _, _) => role switch
        {
            "system" => new("<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>", "<|END_OF_TURN_TOKEN|>", Trim: true),
            "user" => new("<|START_OF_TURN_TOKEN|><|USER_TOKEN|>", "<|END_OF_TURN_TOKEN|>", Trim: true),
            "assistant" => new("<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>", "<|END_OF_TURN_TOKEN|>", Trim: true),
            _ => null,
        }, "<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>");
        yield return new TurnFormat("llama3", (role, _, _) => new($"<|start_header_id|>{role}<|end_header_id|>\n\n", "<|eot_id|>", Trim: true),
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
        yield return new TurnFormat("chatglm3", (role, _, _) => new($"<|{role}|>\n ", ""), "<|assistant|>", _ => "[gMASK]sop");
        yield return new TurnFormat("chatglm4", (role, _, _) => new($"<|{role}|>\n", ""), "<|assistant|>\n", _ => "[gMASK]<sop>");
        yield return new TurnFormat("glmedge", (role, _, _) => new($"<|{role}|>\n", ""), "<|assistant|>");
        // MiniCPM-3B-OpenHermes-2.5-v2: no assistant prefix (the user turn ends with <AI>).
        yield return new TurnFormat("minicpm", (role, _, _) => role == "user" ? new("<用户>", "<AI>", Trim: true) : new("", "", Trim: true));
        yield return Exaone("exaone3", withTool: false);
        yield return Exaone("exaone4", withTool: true);
        yield return new TurnFormat("exaone-moe", (role, _, _) => role switch
        {
            "system" or "user" or "assistant" or "tool" => new($"<|{role}|>\n", "<|endofturn|>\n", Trim: true),
            _ => null,
        }, "<|assistant|>\n");
        // Needs "\n\n" as the model's end-of-turn; the last user turn opens the answer itself.
        yield return new TurnFormat("rwkv-world", (role, i, n) => role switch
        {
            "system" => new("System: ", "\n\n", Trim: true),
            "user" => new("User: ", i == n - 1 ? "\n\nAssistant:" : "\n\n", Trim: true),
            "assistant" => new("Assistant: ", "\n\n", Trim: true),
            _ => null,
        });
        yield return new TurnFormat("granite", (role, _, _) =>
            new($"<|start_of_role|>{role}<|end_of_role|>" + (role == "assistant_tool_call" ? "<|tool_call|>" : ""), "<|end_of_text|>\n"),
            "<|start_of_role|>assistant<|end_of_role|>");
        yield return Granite4("granite-4.0");
        yield return Granite4("granite-4.1");
        // ai-sage/GigaChat: a leading system message joins the BOS; system messages later on are dropped.
        yield return new TurnFormat("gigachat", (role, i, _) => role switch
        {
            "system" when i == 0 => new("", "<|message_sep|>"),
            "user" => new("user<|role_sep|>", "<|message_sep|>available functions<|role_sep|>[]<|message_sep|>"),
            "assistant" => new("assistant<|role_sep|>", "<|message_sep|>"),
            _ => null,
        }, "assistant<|role_sep|>", _ => "<s>");
        yield return new TurnFormat("megrez", (role, _, _) => new($"<|role_start|>{role}<|role_end|>", "<|turn_end|>"), "<|role_start|>assistant<|role_end|>");
        // "\n\n" is the end-of-turn token of YandexGPT.
        yield return new TurnFormat("yandex", (role, _, _) => role switch
        {
            "user" => new(" Пользователь: ", "\n\n"),
            "assistant" => new(" Ассистент: ", "\n\n"),
            _ => null,
        }, " Ассистент:[SEP]");
        yield return Bailing("bailing", "<role>ASSISTANT</role>");
        yield return Bailing("bailing-think", "<role>ASSISTANT</role><think>");
        yield return new TurnFormat("bailing2", (role, _, _) => new($"<role>{BailingRole(role)}</role>", "<|role_end|>"), "<role>ASSISTANT</role>",
            messages => messages.Count > 0 && messages[0].Role == "system" ? "" : "<role>SYSTEM</role>detailed thinking off<|role_end|>");
        yield return new TurnFormat("llama4", (role, _, _) => new($"<|header_start|>{role}<|header_end|>\n\n", "<|eot|>", Trim: true),
            "<|header_start|>assistant<|header_end|>\n\n");
        // SmolVLM starts with <|im_start|> as its BOS, but the turns are not chatml.
        yield return new TurnFormat("smolvlm", (role, _, _) => role switch
        {
            "system" => new("", "\n\n"),
            "user" => new("User: ", "<end_of_utterance>\n"),
            _ => new("Assistant: ", "<end_of_utterance>\n"),
        }, "Assistant:", _ => "<|im_start|>");
        // tencent/Hunyuan-A13B-Instruct: no assistant prefix.
        yield return new TurnFormat("hunyuan-moe", (role, _, _) => role switch
        {
            "system" => new("<|startoftext|>", "<|extra_4|>"),
            "assistant" => new("", "<|eos|>"),
            _ => new("<|startoftext|>", "<|extra_0|>"),
        });
        // OpenAI gpt-oss (harmony format), without channels.
        yield return new TurnFormat("gpt-oss", (role, _, _) => new($"<|start|>{role}<|message|>", role == "assistant" ? "<|return|>" : "<|end|>"),
            "<|start|>assistant");
        // tencent/Hunyuan-4B-Instruct: only a first system message is kept; the user turn opens the answer.
        yield return new TurnFormat("hunyuan-dense", (role, i, _) => role switch
        {
            "system" when i == 0 => new("", "<｜hy_place▁holder▁no▁3｜>"),
            "assistant" => new("<｜hy_Assistant｜>", "<｜hy_place▁holder▁no▁2｜>"),
            "user" => new("<｜hy_User｜>", "<｜hy_Assistant｜>"),
            _ => null,
        });
        yield return new TurnFormat("hunyuan-vl", (role, i, _) => role switch
        {
            "system" when i == 0 => new("", "<｜hy_place▁holder▁no▁3｜>"),
            "user" => new("", "<｜hy_User｜>"),
            "assistant" => new("", "<｜hy_Assistant｜>"),
            _ => null,
        }, "", _ => "<｜hy_begin▁of▁sentence｜>");
        // moonshotai/Kimi-K2-Instruct: an unknown role still gets its content and <|im_end|>.
        yield return new TurnFormat("kimi-k2", (role, _, _) => role switch
        {
            "system" => new("<|im_system|>system<|im_middle|>", "<|im_end|>"),
            "user" => new("<|im_user|>user<|im_middle|>", "<|im_end|>"),
            "assistant" => new("<|im_assistant|>assistant<|im_middle|>", "<|im_end|>"),
            "tool" => new("<|im_system|>tool<|im_middle|>", "<|im_end|>"),
            _ => new("", "<|im_end|>"),
        }, "<|im_assistant|>assistant<|im_middle|>");
        yield return new TurnFormat("seed_oss", (role, _, _) => new($"<seed:bos>{role}\n", "<seed:eos>", Trim: role == "assistant"), "<seed:bos>assistant\n");
        yield return new TurnFormat("grok-2", (role, _, _) => role switch
        {
            "system" => new("System: ", "<|separator|>\n\n", Trim: true),
            "user" => new("Human: ", "<|separator|>\n\n", Trim: true),
            "assistant" => new("Assistant: ", "<|separator|>\n\n"),
            _ => null,
        }, "Assistant:");
        // An empty system turn opens the chat when the first message is not a system one.
        yield return new TurnFormat("pangu-embedded", (role, _, _) => role switch
        {
            "system" => new("[unused9]系统：", "[unused10]"),
            "user" => new("[unused9]用户：", "[unused10]"),
            "assistant" => new("[unused9]助手：", "[unused10]"),
            "tool" => new("[unused9]工具：", "[unused10]"),
            "function" => new("[unused9]方法：", "[unused10]"),
            _ => null,
        }, "[unused9]助手：", messages => messages.Count > 0 && messages[0].Role != "system" ? "[unused9]系统：[unused10]" : "");
        yield return new TurnFormat("solar-open", (role, _, _) => new($"<|begin|>{role}<|content|>", "<|end|>"), "<|begin|>assistant");
    }

    /// <summary>Mistral "v7" (Mistral-Large-2411) and "v7-tekken" (Mistral-Small-3.1): [SYSTEM_PROMPT] blocks, no assistant prefix.</summary>
    private static TurnFormat MistralV7(string name, string space) => new(name, (role, _, _) => role switch
    {
        "system" => new("[SYSTEM_PROMPT]" + space, "[/SYSTEM_PROMPT]"),
        "user" => new("[INST]" + space, "[/INST]"),
        _ => new(space, "</s>"),
    });

    /// <summary>eachadea/vicuna-13b-1.1 and its Orca variant, which labels the system text.</summary>
    private static TurnFormat Vicuna(string name, string systemPrefix, string systemSuffix) => new(name, (role, _, _) => role switch
    {
        "system" => new(systemPrefix, systemSuffix),
        "user" => new("USER: ", "\n"),
        "assistant" => new("ASSISTANT: ", "</s>\n"),
        _ => null,
    }, "ASSISTANT:");

    /// <summary>LGAI EXAONE 3.0 (and 4.0, which adds the tool role). The user turn has no end-of-turn marker.</summary>
    private static TurnFormat Exaone(string name, bool withTool) => new(name, (role, _, _) => role switch
    {
        "system" => new("[|system|]", "[|endofturn|]\n", Trim: true),
        "user" => new("[|user|]", "\n", Trim: true),
        "assistant" => new("[|assistant|]", "[|endofturn|]\n", Trim: true),
        "tool" when withTool => new("[|tool|]", "[|endofturn|]\n", Trim: true),
        _ => null,
    }, "[|assistant|]");

    /// <summary>IBM Granite 4.0 / 4.1: a tool call is written as an assistant turn opened by &lt;|tool_call|&gt;.</summary>
    private static TurnFormat Granite4(string name) => new(name, (role, _, _) => new(
        role == "assistant_tool_call" ? "<|start_of_role|>assistant<|end_of_role|><|tool_call|>" : $"<|start_of_role|>{role}<|end_of_role|>",
        "<|end_of_text|>\n"), "<|start_of_role|>assistant<|end_of_role|>");

    /// <summary>inclusionAI Ling/Ring: roles upper-cased, "user" written HUMAN.</summary>
    private static TurnFormat Bailing(string name, string generationPrompt) =>
        new(name, (role, _, _) => new($"<role>{BailingRole(role)}</role>", ""), generationPrompt);

    private static string BailingRole(string role) => role == "user" ? "HUMAN" : ChatFormat.AsciiUpper(role);

    private static string AsciiCapitalize(string role) =>
        role.Length > 0 && char.IsAsciiLetterLower(role[0]) ? (char)(role[0] - 32) + role[1..] : role;
}
