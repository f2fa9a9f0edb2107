using System.Text.Json;
using LongCtx.Gguf;
using LongCtx.Reference;
using LongCtx.Tokenization;

namespace LongCtx.Tests.Tokenization;

/// <summary>
/// Chat templates against libllama's <c>llama_chat_apply_template</c>: the same format chosen for the
/// same template text and the same prompt text, for real models' templates (files under
/// ChatTemplates/), llama.cpp's own test cases, every built-in name, and random conversations.
/// </summary>
public sealed class ChatTemplateTests
{
    private static readonly string DataDir = Path.Combine(AppContext.BaseDirectory, "Tokenization", "ChatTemplates");

    /// <summary>The families real models ship: a template (a .jinja file, or "case:NAME" from llama.cpp's test cases) and the format llama.cpp picks for it.</summary>
    public static TheoryData<string, string> Families => new()
    {
        { "Qwen-Qwen2.5-7B-Instruct.jinja", "chatml" },
        { "Qwen-Qwen3-0.6B.jinja", "chatml" },
        { "Qwen-QwQ-32B.jinja", "chatml" },
        { "HuggingFaceTB-SmolLM2-1.7B-Instruct.jinja", "chatml" },
        { "HuggingFaceTB-SmolLM3-3B.jinja", "chatml" },
        { "case:teknium/OpenHermes-2.5-Mistral-7B", "chatml" },
        { "meta-llama-Llama-3.1-8B-Instruct.jinja", "llama3" },
        { "meta-llama-Llama-3.2-3B-Instruct.jinja", "llama3" },
        { "meta-llama-Llama-3.3-70B-Instruct.jinja", "llama3" },
        { "case:Llama-3", "llama3" },
        { "meta-llama-Llama-2-7b-chat-hf.jinja", "llama2-sys-strip" },
        { "case:mistralai/Mistral-7B-Instruct-v0.2 (NOTE: Old pre-v1 without a system prompt)", "llama2" },
        { "case:TheBloke/FusionNet_34Bx2_MoE-AWQ", "llama2-sys-bos" },
        { "case:mistralai/Mistral-7B-Instruct-v0.2 (mistralai 'v1' template with a system prompt)", "mistral-v1" },
        { "case:Mistral-Large-Instruct-2407 (mistralai 'v3' template; modified to have system prompt at start)", "mistral-v3" },
        { "case:Mistral-Nemo-Instruct-2407 (mistralai 'v3-tekken' template; modified to have system prompt at start)", "mistral-v3-tekken" },
        { "mistralai-Mistral-Nemo-Instruct-2407.jinja", "mistral-v3-tekken" },
        { "case:mistralai/Mistral-Large-Instruct-2411 (mistralai 'v7' template)", "mistral-v7" },
        { "Mistral-Small-3.2-24B-Instruct-2506.jinja", "mistral-v7" },
        { "google-gemma-2-2b-it.jinja", "gemma" },
        { "case:google/gemma-7b-it", "gemma" },
        { "microsoft-Phi-3.5-mini-instruct.jinja", "phi3" },
        { "case:Phi-3-mini", "phi3" },
        { "case:phi-4", "phi4" },
        { "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja", "deepseek3" },
        { "ibm-granite-granite-3.3-2B-Instruct.jinja", "granite" },
        { "case:CohereForAI/c4ai-command-r-plus", "command-r" },
    };

    /// <summary>Conversations that exercise each format's rules: with and without system text, several turns, odd roles and whitespace.</summary>
    private static readonly ChatMessage[][] Conversations =
    [
        [],
        [new("user", "Hello")],
        [new("system", "You are terse."), new("user", "Hi!")],
        [new("user", "Hello"), new("assistant", "Hi there"), new("user", "Who are you?")],
        [new("system", "You are a helpful assistant"), new("user", "Hello"), new("assistant", "Hi there"), new("user", "Who are you"),
            new("assistant", "   I am an assistant   "), new("user", "Another question")],
        [new("user", "Hello"), new("assistant", "Hi there")],
        [new("system", " \t sys with spaces \n"), new("user", "\n\nleading newlines"), new("assistant", "\u00a0nbsp and ideographic\u3000"),
            new("user", "\v\fcontrol\r")],
        [new("system", "first system"), new("system", "second system"), new("user", "q"), new("system", "late system"), new("user", "q2")],
        [new("user", ""), new("assistant", ""), new("user", "  ")],
        [new("user", "call a tool"), new("assistant", "<tool_call>{}</tool_call>"), new("tool", "{\"ok\":true}"), new("ipython", "x"),
            new("function", "f"), new("", "empty role"), new("user", "thanks")],
        [new("user", "思考 <think>reasoning</think> 答案 🎉 ünïcödé"), new("assistant", "<think>\nhidden\n</think>\n\nvisible")],
        [new("assistant", "I start"), new("user", "then you")],
    ];

    private static readonly Lazy<TestCases> LlamaCases = new(() =>
        JsonSerializer.Deserialize<TestCases>(File.ReadAllText(Path.Combine(DataDir, "llama-cpp-test-cases.json")), JsonOptions)!);

    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNameCaseInsensitive = true };

    [Theory]
    [MemberData(nameof(Families))]
    public void FamilyRendersAsLlamaCpp(string source, string format)
    {
        string text = TemplateText(source);
        ChatTemplate template = ChatTemplate.FromText(text);
        Assert.Equal(format, template.Name);
        Assert.Equal(text, template.Text);
        AssertSameAsLlamaCpp(text, template);
        // The name selects the same format.
        AssertSameAsLlamaCpp(format, ChatTemplate.FromName(format));
    }

    public static TheoryData<string> LlamaCaseNames()
    {
        var data = new TheoryData<string>();
        foreach (TestCase c in LlamaCases.Value.Cases)
        {
            data.Add(c.Name);
        }
        return data;
    }

    /// <summary>llama.cpp's own expectations (tests/test-chat-template.cpp), which hold without the native library.</summary>
    [Theory]
    [MemberData(nameof(LlamaCaseNames))]
    public void LlamaCppTestCaseGivesItsExpectedOutput(string name)
    {
        TestCase c = LlamaCases.Value.Cases.Single(x => x.Name == name);
        ChatMessage[] chat = [.. LlamaCases.Value.Conversation.Concat(c.Extra).Select(m => new ChatMessage(m.Role, m.Content))];
        Assert.Equal(c.Expected, ChatTemplate.FromText(c.Template).Render(chat, addAssistant: true));
        AssertSameAsLlamaCpp(c.Template, ChatTemplate.FromText(c.Template));
    }

    [Fact]
    public void BuiltinNamesAreLlamaCppsAndEachRendersAsLlamaCpp()
    {
        Assert.Equal(LlamaChatTemplate.BuiltinNames(), ChatTemplate.BuiltinNames);
        foreach (string name in ChatTemplate.BuiltinNames)
        {
            ChatTemplate template = ChatTemplate.FromName(name);
            Assert.Equal(name, template.Name);
            Assert.Null(template.Text);
            AssertSameAsLlamaCpp(name, template);
        }
    }

    /// <summary>Random conversations (roles from a pool that includes unknown ones, contents with edge whitespace) through every format.</summary>
    [Fact]
    public void RandomConversationsRenderAsLlamaCppInEveryFormat()
    {
        string[] roles = ["system", "user", "assistant", "user", "assistant", "tool", "assistant_tool_call", "model", "User", ""];
        string[] pieces = ["", " ", "  ", "\n", "\t", "\r\n", "\u00a0", "word", "Ünï", "日本", "🎉", "<|im_end|>", "[INST]", "</s>", "a b"];
        var random = new Random(20240601);
        for (int trial = 0; trial < 60; trial++)
        {
            var chat = new ChatMessage[random.Next(0, 7)];
            for (int i = 0; i < chat.Length; i++)
            {
                string content = string.Concat(Enumerable.Range(0, random.Next(0, 6)).Select(_ => pieces[random.Next(pieces.Length)]));
                chat[i] = new ChatMessage(roles[random.Next(roles.Length)], content);
            }
            foreach (string name in ChatTemplate.BuiltinNames)
            {
                foreach (bool addAssistant in new[] { false, true })
                {
                    string expected = LlamaChatTemplate.Apply(name, Tuples(chat), addAssistant);
                    Assert.True(expected == ChatTemplate.FromName(name).Render(chat, addAssistant),
                        $"{name}, add_ass={addAssistant}, trial {trial}: expected {JsonSerializer.Serialize(expected)}");
                }
            }
        }
    }

    [Fact]
    public void Dots1IsRecognisedFromTextButHasNoName()
    {
        const string text = "{% for m in messages %}{% if m['role'] == 'user' %}<|userprompt|>{{ m['content'] }}<|endofuserprompt|>{% endif %}{% endfor %}";
        ChatTemplate template = ChatTemplate.FromText(text);
        Assert.Equal("dots1", template.Name);
        AssertSameAsLlamaCpp(text, template);
        Assert.Throws<ChatTemplateException>(() => ChatTemplate.FromName("dots1"));
        Assert.Null(LlamaChatTemplate.TryApply("dots1", [("user", "x")], true));
    }

    [Theory]
    [InlineData("INVALID TEMPLATE")]
    [InlineData("")]
    [InlineData("Chatml")]
    [InlineData("{% for message in messages %}{{ message['role'] + ': ' + message['content'] + '\\n' }}{% endfor %}")]
    public void TemplateLlamaCppCannotRenderIsANamedError(string text)
    {
        Assert.Null(LlamaChatTemplate.TryApply(text, [("user", "x")], true));
        var e = Assert.Throws<ChatTemplateException>(() => ChatTemplate.FromText(text));
        Assert.StartsWith(e.Template.TrimEnd('…'), text, StringComparison.Ordinal);
        Assert.Contains("not supported", e.Message, StringComparison.Ordinal);
        Assert.Contains("chatml", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LongUnsupportedTemplateIsQuotedByItsHead()
    {
        string text = "{# a custom template #}" + new string('x', 500);
        var e = Assert.Throws<ChatTemplateException>(() => ChatTemplate.FromText(text));
        Assert.Equal(text[..80] + "…", e.Template);
        Assert.Contains("(523 chars)", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("no-such-template")]
    [InlineData("ChatML")]
    [InlineData(" chatml")]
    public void UnknownNameIsANamedError(string name)
    {
        var e = Assert.Throws<ChatTemplateException>(() => ChatTemplate.FromName(name));
        Assert.Equal(name, e.Template);
        Assert.Contains($"'{name}'", e.Message, StringComparison.Ordinal);
        Assert.Contains("llama3", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NullMessagesAreRejected()
    {
        ChatTemplate chatml = ChatTemplate.FromName("chatml");
        Assert.Throws<ArgumentNullException>(() => chatml.Render(null!, true));
        Assert.Throws<ArgumentException>(() => chatml.Render([new("user", null!)], true));
        Assert.Throws<ArgumentException>(() => chatml.Render([null!], true));
    }

    [Fact]
    public void FromGgufReadsTheModelsTemplate()
    {
        using var dir = new TempDir();
        string llama3 = File.ReadAllText(Path.Combine(DataDir, "meta-llama-Llama-3.1-8B-Instruct.jinja"));
        using (GgufFile file = WriteMetadataOnly(dir.File("with.gguf"), llama3))
        {
            ChatTemplate template = ChatTemplate.FromGguf(file)!;
            Assert.Equal("llama3", template.Name);
            Assert.Equal(llama3, template.Text);
        }
        using (GgufFile file = WriteMetadataOnly(dir.File("without.gguf"), null))
        {
            Assert.Null(ChatTemplate.FromGguf(file));
        }
        using (GgufFile file = WriteMetadataOnly(dir.File("custom.gguf"), "{{ messages }}"))
        {
            var e = Assert.Throws<ChatTemplateException>(() => ChatTemplate.FromGguf(file));
            Assert.Contains("custom.gguf", e.Message, StringComparison.Ordinal);
            Assert.Equal("{{ messages }}", e.Template);
        }
    }

    [Fact]
    public void FromFileReadsTemplateText()
    {
        string path = Path.Combine(DataDir, "google-gemma-2-2b-it.jinja");
        ChatTemplate template = ChatTemplate.FromFile(path);
        Assert.Equal("gemma", template.Name);
        Assert.Equal(File.ReadAllText(path), template.Text);
        using var dir = new TempDir();
        File.WriteAllText(dir.File("bad.jinja"), "{{ messages }}");
        var e = Assert.Throws<ChatTemplateException>(() => ChatTemplate.FromFile(dir.File("bad.jinja")));
        Assert.Contains("bad.jinja", e.Message, StringComparison.Ordinal);
        Assert.Throws<FileNotFoundException>(() => ChatTemplate.FromFile(dir.File("missing.jinja")));
    }

    private static void AssertSameAsLlamaCpp(string llamaTemplate, ChatTemplate template)
    {
        foreach (ChatMessage[] chat in Conversations)
        {
            foreach (bool addAssistant in new[] { false, true })
            {
                string expected = LlamaChatTemplate.Apply(llamaTemplate, Tuples(chat), addAssistant);
                string actual = template.Render(chat, addAssistant);
                Assert.True(expected == actual,
                    $"{template.Name}, add_ass={addAssistant}, {chat.Length} messages:\nexpected {JsonSerializer.Serialize(expected)}\nactual   {JsonSerializer.Serialize(actual)}");
            }
        }
    }

    private static (string Role, string Content)[] Tuples(ChatMessage[] chat) => chat.Select(m => (m.Role, m.Content)).ToArray();

    private static string TemplateText(string source) => source.StartsWith("case:", StringComparison.Ordinal)
        ? LlamaCases.Value.Cases.Single(c => c.Name == source["case:".Length..]).Template
        : File.ReadAllText(Path.Combine(DataDir, source));

    private static GgufFile WriteMetadataOnly(string path, string? template)
    {
        var w = new GgufWriter().Add(GgufKeys.Architecture, "llama");
        if (template != null)
        {
            w.Add(GgufKeys.ChatTemplate, template);
        }
        w.Write(path);
        return GgufFile.Open(path);
    }

    private sealed record Message(string Role, string Content);

    private sealed record TestCase(string Name, string Template, string Expected, Message[] Extra);

    private sealed record TestCases(Message[] Conversation, TestCase[] Cases);
}
