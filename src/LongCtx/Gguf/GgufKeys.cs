namespace LongCtx.Gguf;
#pragma warning disable CS1591 // each constant is exactly the GGUF key or tensor name it holds


/// <summary>
/// Every GGUF metadata key and tensor-name pattern LongCtx reads or writes, in one place
/// (as llama.cpp's llama-arch.cpp). Keys with <c>{arch}</c> are prefixed by the architecture name.
/// </summary>
public static class GgufKeys
{
    public const string Alignment = "general.alignment";
    public const string Architecture = "general.architecture";
    public const string Name = "general.name";
    public const string FileType = "general.file_type";
    public const string QuantizationVersion = "general.quantization_version";

    public const string ContextLength = "{arch}.context_length";
    public const string EmbeddingLength = "{arch}.embedding_length";
    public const string BlockCount = "{arch}.block_count";
    public const string FeedForwardLength = "{arch}.feed_forward_length";
    public const string HeadCount = "{arch}.attention.head_count";
    public const string HeadCountKv = "{arch}.attention.head_count_kv";
    public const string KeyLength = "{arch}.attention.key_length";
    public const string ValueLength = "{arch}.attention.value_length";
    public const string RmsEpsilon = "{arch}.attention.layer_norm_rms_epsilon";
    public const string RopeDimensionCount = "{arch}.rope.dimension_count";
    public const string RopeFreqBase = "{arch}.rope.freq_base";
    public const string RopeScalingType = "{arch}.rope.scaling.type";
    public const string RopeScalingFactor = "{arch}.rope.scaling.factor";
    public const string RopeScalingOriginalContext = "{arch}.rope.scaling.original_context_length";
    public const string VocabSize = "{arch}.vocab_size";

    public const string TokenizerModel = "tokenizer.ggml.model";
    public const string TokenizerPre = "tokenizer.ggml.pre";
    public const string TokenizerTokens = "tokenizer.ggml.tokens";
    public const string TokenizerTokenTypes = "tokenizer.ggml.token_type";
    public const string TokenizerScores = "tokenizer.ggml.scores";
    public const string TokenizerMerges = "tokenizer.ggml.merges";
    public const string TokenizerBos = "tokenizer.ggml.bos_token_id";
    public const string TokenizerEos = "tokenizer.ggml.eos_token_id";
    public const string TokenizerAddBos = "tokenizer.ggml.add_bos_token";
    public const string TokenizerAddEos = "tokenizer.ggml.add_eos_token";
    public const string TokenizerAddSpacePrefix = "tokenizer.ggml.add_space_prefix";
    public const string TokenizerEot = "tokenizer.ggml.eot_token_id";
    public const string TokenizerEom = "tokenizer.ggml.eom_token_id";
    public const string TokenizerUnknown = "tokenizer.ggml.unknown_token_id";
    public const string TokenizerSeparator = "tokenizer.ggml.seperator_token_id"; // sic, as llama.cpp spells it
    public const string TokenizerPadding = "tokenizer.ggml.padding_token_id";
    public const string TokenizerMask = "tokenizer.ggml.mask_token_id";
    public const string TokenizerFimPre = "tokenizer.ggml.fim_pre_token_id";
    public const string TokenizerFimSuf = "tokenizer.ggml.fim_suf_token_id";
    public const string TokenizerFimMid = "tokenizer.ggml.fim_mid_token_id";
    public const string TokenizerFimPad = "tokenizer.ggml.fim_pad_token_id";
    public const string TokenizerFimRep = "tokenizer.ggml.fim_rep_token_id";
    public const string TokenizerFimSep = "tokenizer.ggml.fim_sep_token_id";
    public const string TokenizerPrefix = "tokenizer.ggml.prefix_token_id"; // deprecated spellings of fim_pre/suf/mid
    public const string TokenizerSuffix = "tokenizer.ggml.suffix_token_id";
    public const string TokenizerMiddle = "tokenizer.ggml.middle_token_id";
    public const string ChatTemplate = "tokenizer.chat_template";

    /// <summary>Replaces <c>{arch}</c> in a key with the architecture name.</summary>
    public static string ForArch(string key, string arch) => key.Replace("{arch}", arch, StringComparison.Ordinal);
}

/// <summary>Tensor names of the Llama family (<c>{n}</c> is the block index).</summary>
public static class GgufTensorNames
{
    public const string TokenEmbedding = "token_embd.weight";
    public const string OutputNorm = "output_norm.weight";
    public const string Output = "output.weight";
    public const string RopeFreqs = "rope_freqs.weight";

    public const string AttnNorm = "blk.{n}.attn_norm.weight";
    public const string AttnQ = "blk.{n}.attn_q.weight";
    public const string AttnK = "blk.{n}.attn_k.weight";
    public const string AttnV = "blk.{n}.attn_v.weight";
    public const string AttnQBias = "blk.{n}.attn_q.bias";
    public const string AttnKBias = "blk.{n}.attn_k.bias";
    public const string AttnVBias = "blk.{n}.attn_v.bias";
    public const string AttnQNorm = "blk.{n}.attn_q_norm.weight";
    public const string AttnKNorm = "blk.{n}.attn_k_norm.weight";
    public const string AttnOutput = "blk.{n}.attn_output.weight";
    public const string FfnNorm = "blk.{n}.ffn_norm.weight";
    public const string FfnGate = "blk.{n}.ffn_gate.weight";
    public const string FfnUp = "blk.{n}.ffn_up.weight";
    public const string FfnDown = "blk.{n}.ffn_down.weight";

    /// <summary>The name of a per-block tensor for block <paramref name="block"/>.</summary>
    public static string ForBlock(string pattern, int block) =>
        pattern.Replace("{n}", block.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
}
