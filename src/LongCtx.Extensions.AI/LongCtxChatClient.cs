using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading.Channels;
using LongCtx.Generation;
using LongCtx.Generation.Sampling;
using LongCtx.KvCache;
using LongCtx.Models;
using LongCtx.Tokenization;
using Microsoft.Extensions.AI;
using AIChatMessage = Microsoft.Extensions.AI.ChatMessage;

namespace LongCtx.Extensions.AI;

/// <summary>
/// A Microsoft.Extensions.AI <see cref="IChatClient"/> over the in-process engine: the messages go
/// through the model's chat template and tokenizer, then the shared generation loop
/// (<see cref="TextGenerator"/>) answers, as <c>longctx chat</c> does. Streaming yields the text as
/// it becomes showable: whole UTF-8 characters, never any part of a stop sequence.
/// </summary>
/// <remarks>
/// <para><b>Threads.</b> One client owns one <see cref="Session"/> (one KV cache) and serializes
/// calls on it: any number of threads may call it, one call generates at a time and the others wait
/// their turn (their <see cref="CancellationToken"/> cancels the wait). For answers in parallel
/// create several clients over one <see cref="Model"/> (weights are shared, each client has its own
/// cache) or use <c>longctx serve</c>, which batches.</para>
/// <para><b>Prefix reuse.</b> The client remembers the conversation its session holds. A call whose
/// rendered messages extend it (the previous messages, the answer as returned, then new messages)
/// tokenizes and prefills only the new text; <see cref="UsageDetails.CachedInputTokenCount"/> counts
/// the reused tokens. Any other call prefills from the first token where the prompts differ.</para>
/// <para><b>Options.</b> <see cref="ChatOptions"/> maps to the sampler: Temperature (0 = greedy),
/// TopP, TopK, FrequencyPenalty, PresencePenalty, Seed (0 to 2^32-1; the same seed and messages give
/// the same answer), MaxOutputTokens, StopSequences (not included in the answer), Instructions (a
/// system message first) and ModelId (must be the client's, or null). What they leave null comes from
/// <see cref="LongCtxChatClientOptions"/>. <c>AdditionalProperties["kv"]</c> picks a KV method by
/// spec (<c>snapkv:ratio=0.5</c>, as <c>--kv</c>); changing it starts the session over. Tools and
/// non-text content are not supported and throw <see cref="NotSupportedException"/>.</para>
/// <para><b>Finish.</b> <see cref="ChatFinishReason.Stop"/> when the model ends its turn or a stop
/// sequence appears, <see cref="ChatFinishReason.Length"/> when MaxOutputTokens or the context runs
/// out. Usage: input tokens (the templated prompt, BOS included) and output tokens (sampled ones,
/// the one that ended generation included). The response's and the last update's
/// <c>RawRepresentation</c> is the <see cref="GenerationResult"/> with timings.</para>
/// <para>Control tokens written in message text (e.g. <c>&lt;|im_end|&gt;</c>) are read as control
/// tokens, as llama.cpp's tools and <c>longctx serve</c> do: do not pass untrusted text that must stay
/// literal.</para>
/// </remarks>
public sealed class LongCtxChatClient : IChatClient
{
    private readonly Model _model;
    private readonly bool _ownsModel;
    private readonly LongCtxChatClientOptions _options;
    private readonly Tokenizer _tokenizer;
    private readonly ChatTemplate _template;
    private readonly TextGenerator _generator;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ChatClientMetadata _metadata;
    // The conversation the session holds, as text and as the tokens that stand for it (the last may
    // be sampled but not evaluated); empty when the next call must tokenize its whole prompt.
    private readonly HeldPrompt _held = new();
    private string _kv = "full";
    private bool _disposed;

    private LongCtxChatClient(Model model, bool ownsModel, LongCtxChatClientOptions? options)
    {
        _options = options ?? new LongCtxChatClientOptions();
        _options.Sampling.Validate();
        _tokenizer = model.Tokenizer;
        _template = _options.ChatTemplate ?? ChatTemplate.FromGguf(model.File) ?? ChatTemplate.FromName("chatml");
        var session = new Session(model, new SessionOptions { ContextSize = _options.ContextSize, KvCacheType = _options.KvCacheType });
        _generator = new TextGenerator(session, _tokenizer, new SamplerChain(SamplingOptions.Greedy, model.Config.VocabSize));
        _model = model;
        _ownsModel = ownsModel;
        ModelId = _options.ModelId ?? Path.GetFileName(model.File.FilePath);
        _metadata = new ChatClientMetadata("LongCtx", null, ModelId);
    }

    /// <summary>A client over a loaded model; the model stays the caller's (disposing the client does not dispose it).</summary>
    /// <param name="model">The model; other clients and sessions may share it.</param>
    /// <param name="options">Session, template and defaults; null for the defaults.</param>
    /// <exception cref="NotSupportedException">The model's tokenizer is not implemented.</exception>
    /// <exception cref="ChatTemplateException">The model's chat template matches no built-in format (choose one in <see cref="LongCtxChatClientOptions.ChatTemplate"/>).</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option of <see cref="LongCtxChatClientOptions.Sampling"/> is out of range.</exception>
    public static LongCtxChatClient Create(Model model, LongCtxChatClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new LongCtxChatClient(model, ownsModel: false, options);
    }

    /// <summary>Loads a GGUF model and returns a client that owns it (disposing the client disposes the model).</summary>
    /// <param name="path">The GGUF file.</param>
    /// <param name="options">Session, template and defaults; null for the defaults.</param>
    /// <param name="modelOptions">How the model is loaded (threads); null for the defaults.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="LongCtx.Gguf.GgufFormatException">The file is not a supported model.</exception>
    public static LongCtxChatClient Open(string path, LongCtxChatClientOptions? options = null, ModelOptions? modelOptions = null)
    {
        Model model = Model.Load(path, modelOptions);
        try
        {
            return new LongCtxChatClient(model, ownsModel: true, options);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>The id the client reports in responses and accepts in <see cref="ChatOptions.ModelId"/>.</summary>
    public string ModelId { get; }

    /// <summary>The chat template the messages are rendered with.</summary>
    public ChatTemplate ChatTemplate => _template;

    /// <summary>Positions of the client's KV cache: the templated prompt plus the answer must fit.</summary>
    public int ContextSize => _generator.Session.ContextSize;

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">No messages, a role other than system/user/assistant, another model's id, an option out of
    /// range (its name in the message), or a bad KV spec (<see cref="KvSpecException"/>).</exception>
    /// <exception cref="PromptTooLongException">The templated prompt leaves no room in the context to answer.</exception>
    /// <exception cref="NotSupportedException">Tools, a JSON response format, or non-text message content.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (checked before each token).</exception>
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<AIChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ChatRequest request = ChatRequest.Create(messages, options, ModelId, _options);
        var text = new StringBuilder();
        GenerationResult result = await RunAsync(request, piece => text.Append(piece), cancellationToken).ConfigureAwait(false);
        return new ChatResponse(new AIChatMessage(ChatRole.Assistant, text.ToString()))
        {
            ResponseId = NewId(),
            ModelId = ModelId,
            CreatedAt = DateTimeOffset.UtcNow,
            FinishReason = FinishReason(result),
            Usage = Usage(result),
            RawRepresentation = result,
        };
    }

    /// <inheritdoc/>
    /// <remarks>Bad messages and options throw here, before anything is enumerated (the same exceptions as <see cref="GetResponseAsync"/>);
    /// a prompt too long for the context (<see cref="PromptTooLongException"/>) and cancellation throw from the enumeration.
    /// Each update holds one piece of text; the last holds no text but the finish reason and a <see cref="UsageContent"/>.
    /// Stopping the enumeration early cancels the generation.</remarks>
    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<AIChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        Stream(ChatRequest.Create(messages, options, ModelId, _options), cancellationToken);

    private async IAsyncEnumerable<ChatResponseUpdate> Stream(ChatRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string responseId = NewId(), messageId = NewId();
        DateTimeOffset created = DateTimeOffset.UtcNow;
        var pieces = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task<GenerationResult> generation = RunAsync(request, piece => pieces.Writer.TryWrite(piece.ToString()), stop.Token);
        _ = generation.ContinueWith(t => pieces.Writer.TryComplete(t.Exception?.InnerException), TaskScheduler.Default);
        try
        {
            await foreach (string piece in pieces.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                cancellationToken.ThrowIfCancellationRequested();   // pieces already queued are not shown after a cancel
                yield return new ChatResponseUpdate(ChatRole.Assistant, piece)
                {
                    ResponseId = responseId, MessageId = messageId, ModelId = ModelId, CreatedAt = created,
                };
            }
        }
        finally
        {
            // The consumer stopped early (or the generation failed): end the generation and wait for it, so the session is free.
            stop.Cancel();
            try
            {
                await generation.ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // cancelled by us, because the consumer stopped: not an error
            }
            catch (Exception) when (!generation.IsCompletedSuccessfully && pieces.Reader.Completion.IsFaulted)
            {
                // already thrown to the consumer by ReadAllAsync
            }
        }
        GenerationResult result = await generation.ConfigureAwait(false);
        yield return new ChatResponseUpdate(ChatRole.Assistant, [new UsageContent(Usage(result))])
        {
            ResponseId = responseId, MessageId = messageId, ModelId = ModelId, CreatedAt = created,
            FinishReason = FinishReason(result), RawRepresentation = result,
        };
    }

    /// <summary>Waits for the session, then generates on a thread of its own (the loop is synchronous and long).</summary>
    private async Task<GenerationResult> RunAsync(ChatRequest request, TextSink onText, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return await Task.Factory.StartNew(() => Generate(request, onText, cancellationToken), cancellationToken,
                TaskCreationOptions.LongRunning | TaskCreationOptions.DenyChildAttach, TaskScheduler.Default).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>One call on the session (the gate is held): KV method, prompt tokens with the held prefix reused, then the shared loop.</summary>
    private GenerationResult Generate(ChatRequest request, TextSink onText, CancellationToken cancellationToken)
    {
        if (request.Kv != _kv)
        {
            // A new method: the held cache was made under the old one.
            KvMethod method = KvMethodRegistry.Parse(request.Kv);
            _generator.Reset();
            _generator.Press = method.Press;
            _generator.Session.Selector = method.Selector;
            _kv = request.Kv;
            _held.Clear();
        }

        string rendered = _template.Render(request.Messages, addAssistant: true);
        List<int> prompt = _held.Tokenize(_tokenizer, rendered);

        _generator.Sampler = new SamplerChain(request.Sampling, _model.Config.VocabSize);
        var stop = new StopCondition(request.StopSequences, _tokenizer.EndOfGenerationTokens, request.MaxTokens);
        var answer = new StringBuilder();
        var generated = new List<int>();
        _held.Clear();   // until this call ends well
        GenerationResult result = _generator.Generate(CollectionsMarshal.AsSpan(prompt), stop, piece =>
        {
            answer.Append(piece);
            onText(piece);
        }, generated, cancellationToken);

        _held.Keep(prompt, generated, rendered + answer, result.Reason);
        return result;
    }

    private static ChatFinishReason FinishReason(GenerationResult result) =>
        result.Reason is StopReason.MaxTokens or StopReason.ContextFull ? ChatFinishReason.Length : ChatFinishReason.Stop;

    private static UsageDetails Usage(GenerationResult result) => new()
    {
        InputTokenCount = result.PromptTokens,
        CachedInputTokenCount = result.PromptTokens - result.PrefilledTokens,
        OutputTokenCount = result.GeneratedTokens,
        TotalTokenCount = result.PromptTokens + result.GeneratedTokens,
    };

    private static string NewId() => Guid.NewGuid().ToString("N");

    /// <inheritdoc/>
    /// <remarks>Answers <see cref="ChatClientMetadata"/> (provider "LongCtx", the model id), the <see cref="Model"/>, and the client itself; null otherwise or for any key.</remarks>
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey != null)
        {
            return null;
        }
        if (serviceType == typeof(ChatClientMetadata))
        {
            return _metadata;
        }
        if (serviceType == typeof(Model))
        {
            return _model;
        }
        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    /// <summary>Waits for a running call to finish, then frees the session (and the model when the client opened it).</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _gate.Wait();
        try
        {
            _disposed = true;
            if (_ownsModel)
            {
                _model.Dispose();
            }
        }
        finally
        {
            _gate.Release();
        }
    }
}
