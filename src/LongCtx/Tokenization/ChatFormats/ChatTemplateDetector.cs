namespace LongCtx.Tokenization.ChatFormats;

/// <summary>
/// Recognises a chat template as llama.cpp's <c>llm_chat_detect_template</c> does: first as one of
/// the built-in names, then by markers found in the Jinja text, tested in llama.cpp's order (the
/// first match wins, so the order is part of the behaviour). Returns null when nothing matches.
/// </summary>
internal static class ChatTemplateDetector
{
    public static ChatFormat? Detect(string template)
    {
        if (BuiltinFormats.ByName.TryGetValue(template, out ChatFormat? named))
        {
            return named;
        }
        string? name = DetectName(template);
        return name == null ? null : name == BuiltinFormats.Dots1.Name ? BuiltinFormats.Dots1 : BuiltinFormats.ByName[name];
    }

    private static string? DetectName(string t)
    {
        bool Has(string marker) => t.Contains(marker, StringComparison.Ordinal);

        if (Has("<|im_start|>"))
        {
            // SmolVLM uses <|im_start|> as its BOS but is not chatml.
            return Has("<|im_sep|>") ? "phi4" : Has("<end_of_utterance>") ? "smolvlm" : "chatml";
        }
        if (t.StartsWith("mistral", StringComparison.Ordinal) || Has("[INST]"))
        {
            if (Has("[SYSTEM_PROMPT]"))
            {
                return "mistral-v7";
            }
            // Mistral's official v1 template, or the v3 / v3-tekken ones (which know tools).
            if (Has("' [INST] ' + system_message") || Has("[AVAILABLE_TOOLS]"))
            {
                return Has(" [INST]") ? "mistral-v1" : Has("\"[INST]\"") ? "mistral-v3-tekken" : "mistral-v3";
            }
            // Llama 2 and its variants.
            return Has("content.strip()") ? "llama2-sys-strip"
                : Has("bos_token + '[INST]") ? "llama2-sys-bos"
                : Has("<<SYS>>") ? "llama2-sys"
                : "llama2";
        }
        if (Has("<|assistant|>") && Has("<|end|>"))
        {
            return "phi3";
        }
        if (Has("[gMASK]<sop>"))
        {
            return "chatglm4";
        }
        if (Has("<|assistant|>") && Has("<|user|>"))
        {
            return Has("<|tool_declare|>") ? "exaone-moe" : Has("</s>") ? "falcon3" : "glmedge";
        }
        if (Has("<|{{ item['role'] }}|>") && Has("<|begin_of_image|>"))
        {
            return "glmedge";
        }
        if (Has("<|user|>") && Has("<|endoftext|>"))
        {
            return "zephyr";
        }
        if (Has("bos_token + message['role']"))
        {
            return "monarch";
        }
        if (Has("<start_of_turn>"))
        {
            return "gemma";
        }
        if (Has("'\\n\\nAssistant: ' + eos_token"))
        {
            return "orion";
        }
        if (Has("GPT4 Correct "))
        {
            return "openchat";
        }
        if (Has("USER: ") && Has("ASSISTANT: "))
        {
            return Has("SYSTEM: ") ? "vicuna-orca" : "vicuna";
        }
        if (Has("### Instruction:") && Has("<|EOT|>"))
        {
            return "deepseek";
        }
        if (Has("<|START_OF_TURN_TOKEN|>") && Has("<|USER_TOKEN|>"))
        {
            return "command-r";
        }
        if (Has("<|start_header_id|>") && Has("<|end_header_id|>"))
        {
            return "llama3";
        }
        if (Has("[gMASK]sop"))
        {
            return "chatglm3";
        }
        if (Has("<用户>"))
        {
            return "minicpm";
        }
        if (Has("'Assistant: ' + message['content'] + eos_token"))
        {
            return "deepseek2";
        }
        if (Has("<｜Assistant｜>") && Has("<｜User｜>") && Has("<｜end▁of▁sentence｜>"))
        {
            return "deepseek3";
        }
        if (Has("[|system|]") && Has("[|assistant|]") && Has("[|endofturn|]"))
        {
            return Has("[|tool|]") ? "exaone4" : "exaone3";
        }
        if (Has("rwkv-world") || Has("{{- 'User: ' + message['content']|trim + '\\n\\n' -}}"))
        {
            return "rwkv-world";
        }
        if (Has("<|start_of_role|>"))
        {
            if (Has("<tool_call>") || Has("<tools>"))
            {
                return Has("g4_default_system_message") ? "granite-4.0" : "granite-4.1";
            }
            return "granite";
        }
        if (Has("message['role'] + additional_special_tokens[0] + message['content'] + additional_special_tokens[1]"))
        {
            return "gigachat";
        }
        if (Has("<|role_start|>"))
        {
            return "megrez";
        }
        if (Has(" Ассистент:"))
        {
            return "yandex";
        }
        if (Has("<role>ASSISTANT</role>") && Has("'HUMAN'"))
        {
            return "bailing";
        }
        if (Has("<role>ASSISTANT</role>") && Has("\"HUMAN\"") && Has("<think>"))
        {
            return "bailing-think";
        }
        if (Has("<role>ASSISTANT</role>") && Has("<role>HUMAN</role>") && Has("<|role_end|>"))
        {
            return "bailing2";
        }
        if (Has("<|header_start|>") && Has("<|header_end|>"))
        {
            return "llama4";
        }
        if (Has("<|endofuserprompt|>"))
        {
            return "dots1";
        }
        if (Has("<|extra_0|>") && Has("<|extra_4|>"))
        {
            return "hunyuan-moe";
        }
        if (Has("<|start|>") && Has("<|channel|>"))
        {
            return "gpt-oss";
        }
        if (Has("<｜hy_Assistant｜>") && Has("<｜hy_begin▁of▁sentence｜>"))
        {
            return "hunyuan-vl";
        }
        if (Has("<｜hy_Assistant｜>") && Has("<｜hy_place▁holder▁no▁3｜>"))
        {
            return "hunyuan-dense";
        }
        if (Has("<|im_assistant|>assistant<|im_middle|>"))
        {
            return "kimi-k2";
        }
        if (Has("<seed:bos>"))
        {
            return "seed_oss";
        }
        if (Has("'Assistant: '  + message['content'] + '<|separator|>"))
        {
            return "grok-2";
        }
        if (Has("[unused9]系统：[unused10]"))
        {
            return "pangu-embedded";
        }
        if (Has("<|begin|>") && Has("<|end|>") && Has("<|content|>"))
        {
            return "solar-open";
        }
        return null;
    }
}
