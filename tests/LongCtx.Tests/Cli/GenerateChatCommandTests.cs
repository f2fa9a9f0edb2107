using System.Text;
using LongCtx.Generation;
using LongCtx.Models;
using LongCtx.Reference;
using LongCtx.Tensors;
using LongCtx.Tokenization;

namespace LongCtx.Tests.Cli;

/// <summary>A random-weight model with a byte-level vocabulary, written once for the class.</summary>
public sealed class CliModelFixture : IDisposable
{
    private readonly TempDir _dir = new();

    public CliModelFixture()
    {
        Path = _dir.File("tiny.gguf");
        SyntheticModel.Write(Path, new SyntheticShape { Architecture = "qwen2", VocabSize = 320, EmbeddingLength = 64, BlockCount = 2, HeadCount = 4, HeadCountKv = 2, FeedForwardLength = 128, ContextLength = 1024 }, GgmlType.Q8_0, seed: 11);
        Model = Model.Load(Path);
    }

    public string Path { get; }

    public Model Model { get; }

    public string File(string name) => _dir.File(name);

    public void Dispose()
    {
        Model.Dispose();
        _dir.Dispose();
    }
}

/// <summary><c>longctx generate</c> and <c>longctx chat</c> end to end: the built executable, its streams and exit code, against greedy decoding through Session + Tokenizer.</summary>
public sealed class GenerateChatCommandTests(CliModelFixture model) : IClassFixture<CliModelFixture>
{
    private const int N = 6;

    /// <summary>Greedy continuation of <paramref name="prompt"/> computed from scratch: the tokens (an end-of-generation token ends it and is returned) and their text.</summary>
    private (List<int> Tokens, string Text) Greedy(IReadOnlyList<int> prompt, int n)
    {
        Tokenizer tokenizer = model.Model.Tokenizer;
        var session = new Session(model.Model, new SessionOptions { ContextSize = 1024 });
        ReadOnlySpan<float> logits = session.Prefill(prompt.ToArray());
        var tokens = new List<int>();
        var detok = new StreamingDetokenizer(tokenizer);
        var text = new StringBuilder();
        for (int i = 0; i < n; i++)
        {
            int next = LongCtx.Generation.Greedy.Argmax(logits);
            tokens.Add(next);
            if (tokenizer.IsEndOfGeneration(next))
            {
                break;
            }
            text.Append(detok.Add(next));
            logits = session.Decode(next);
        }
        text.Append(detok.Flush());
        return (tokens, text.ToString());
    }

    private static void NoStackTrace(string output) => Assert.DoesNotContain("   at ", output);

    [Fact]
    public void Generate_at_temperature_zero_prints_the_greedy_continuation()
    {
        const string prompt = "the quick brown fox";
        Tokenizer tokenizer = model.Model.Tokenizer;
        (_, string expected) = Greedy(tokenizer.Encode(prompt, addSpecial: true, parseSpecial: true), N);

        (int exit, string stdout, string stderr) = CliRunner.Run(null, "generate", "-m", model.Path, "-p", prompt, "-n", N.ToString(), "--temp", "0");
        Assert.True(exit == 0, stdout + stderr);
        Assert.Equal(expected + "\n", stdout);
        Assert.Contains("load ", stderr);
        Assert.Contains("t/s", stderr);
        Assert.Contains("stop: ", stderr);

        // The same prompt from a file, and as token ids (ids out).
        string file = model.File("prompt.txt");
        File.WriteAllText(file, prompt);
        (exit, string fromFile, _) = CliRunner.Run(null, "generate", "-m", model.Path, "--file", file, "-n", N.ToString(), "--temp", "0");
        Assert.Equal(0, exit);
        Assert.Equal(stdout, fromFile);
        int[] ids = tokenizer.Encode(prompt, addSpecial: true, parseSpecial: true);
        (List<int> greedyIds, _) = Greedy(ids, N);
        (exit, string idsOut, _) = CliRunner.Run(null, "generate", "-m", model.Path, "--tokens", string.Join(' ', ids), "-n", N.ToString(), "--temp", "0");
        Assert.Equal(0, exit);
        Assert.Equal(string.Join(' ', greedyIds), idsOut.Trim());
    }

    [Fact]
    public void Generate_with_a_chat_template_wraps_the_prompt()
    {
        string rendered = ChatTemplate.FromName("chatml").Render([new("system", "be brief"), new("user", "hi there")], addAssistant: true);
        (_, string expected) = Greedy(model.Model.Tokenizer.Encode(rendered, addSpecial: true, parseSpecial: true), N);
        (int exit, string stdout, string stderr) = CliRunner.Run(null, "generate", "-m", model.Path, "-p", "hi there", "--system", "be brief",
            "--chat-template", "chatml", "-n", N.ToString(), "--temp", "0");
        Assert.True(exit == 0, stdout + stderr);
        Assert.Equal(expected + "\n", stdout);
    }

    [Fact]
    public void Chat_driven_through_stdin_keeps_history_resets_and_exits()
    {
        Tokenizer tokenizer = model.Model.Tokenizer;
        ChatTemplate chatml = ChatTemplate.FromName("chatml");

        // Turn 1 from scratch; turn 2 continues the tokens the session holds with the new text of the rendered conversation.
        string render1 = chatml.Render([new("user", "hello")], addAssistant: true);
        List<int> prompt1 = [.. tokenizer.Encode(render1, addSpecial: true, parseSpecial: true)];
        (List<int> gen1, string answer1) = Greedy(prompt1, N);
        string render2 = chatml.Render([new("user", "hello"), new("assistant", answer1), new("user", "more please")], addAssistant: true);
        Assert.StartsWith(render1 + answer1, render2);
        List<int> prompt2 = [.. prompt1, .. gen1];
        if (tokenizer.IsEndOfGeneration(gen1[^1]))
        {
            prompt2.RemoveAt(prompt2.Count - 1);
        }
        tokenizer.Encode(render2.AsSpan((render1 + answer1).Length), prompt2, addSpecial: false, parseSpecial: true);
        (_, string answer2) = Greedy(prompt2, N);

        string stdin = "hello\nmore please\n/reset\nhello\n/exit\nnever read\n";
        (int exit, string stdout, string stderr) = CliRunner.Run(stdin, "chat", "-m", model.Path, "--chat-template", "chatml", "-n", N.ToString(), "--temp", "0");
        Assert.True(exit == 0, stdout + stderr);
        // After /reset the same first message gets the same answer.
        Assert.Equal(answer1 + "\n" + answer2 + "\n" + answer1 + "\n", stdout);
        Assert.Contains("(conversation reset)", stderr);
        Assert.Equal(3, CountOf(stderr, "generated "));
        Assert.Contains($"({prompt1.Count + gen1.Count - 1} reused)", stderr);   // turn 2 prefilled only the new suffix

        // End of input ends the chat as /exit does.
        (exit, stdout, _) = CliRunner.Run("hello\n", "chat", "-m", model.Path, "--chat-template", "chatml", "-n", N.ToString(), "--temp", "0");
        Assert.Equal(0, exit);
        Assert.Equal(answer1 + "\n", stdout);
    }

    [Fact]
    public void Bad_input_is_a_named_error_with_exit_code_one()
    {
        (int exit, string stdout, string stderr) = CliRunner.Run(null, "generate", "-m", model.Path);
        Assert.Equal(1, exit);
        Assert.Contains("no prompt", stdout);
        NoStackTrace(stdout + stderr);

        (exit, stdout, stderr) = CliRunner.Run(null, "generate", "-m", model.Path, "-p", "hi", "--chat-template", "no-such-template");
        Assert.Equal(1, exit);
        Assert.Contains("Unknown chat template name 'no-such-template'", stdout);
        NoStackTrace(stdout + stderr);

        (exit, stdout, stderr) = CliRunner.Run("hi\n", "chat", "-m", model.Path, "--chat-template", "no-such-template");
        Assert.Equal(1, exit);
        Assert.Contains("Unknown chat template name", stdout);

        (exit, stdout, stderr) = CliRunner.Run(null, "generate", "-m", model.Path, "-p", string.Concat(Enumerable.Repeat("lorem ipsum ", 40)), "-c", "32");
        Assert.Equal(1, exit);
        Assert.Contains("context holds 32", stdout);
        NoStackTrace(stdout + stderr);

        (exit, stdout, stderr) = CliRunner.Run(null, "generate", "-m", model.Path, "-p", "hi", "--top-p", "0");
        Assert.Equal(1, exit);
        Assert.Contains("TopP", stdout);
        NoStackTrace(stdout + stderr);
    }

    [Fact]
    public void Without_a_model_generate_runs_the_built_in_model()
    {
        string builtin = Path.Combine(OracleFiles.RepositoryRoot(), "models", "longctx.gguf");
        (int exit, string stdout, string stderr) = CliRunner.Run(null, "generate", "-p", "The license", "-n", "6", "--temp", "0");
        Assert.Equal(0, exit);
        NoStackTrace(stdout + stderr);
        (int exitM, string stdoutM, _) = CliRunner.Run(null, "generate", "-m", builtin, "-p", "The license", "-n", "6", "--temp", "0");
        Assert.Equal(0, exitM);
        Assert.False(string.IsNullOrWhiteSpace(stdout));
        Assert.Equal(stdoutM, stdout);
    }

    private static int CountOf(string text, string part)
    {
        int count = 0;
        for (int at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, StringComparison.Ordinal))
        {
            count++;
        }
        return count;
    }
}
