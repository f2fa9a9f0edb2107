namespace LongCtx.Tokenization;

/// <summary>One message of a conversation, as <c>llama_chat_message</c>: a role ("system", "user", "assistant", or any other name a template knows) and its text.</summary>
/// <param name="Role">The speaker. Templates compare it case-sensitively, as llama.cpp does.</param>
/// <param name="Content">The message text, inserted as is (some formats trim ASCII whitespace around it, as llama.cpp does).</param>
public sealed record ChatMessage(string Role, string Content);
