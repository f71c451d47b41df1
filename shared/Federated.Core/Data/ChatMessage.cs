namespace Federated.Core.Data;

/// <summary>One turn of a conversation; <see cref="Role"/> is one of <see cref="ChatRoles"/>.</summary>
public sealed record ChatMessage(string Role, string Content);

public static class ChatRoles
{
    public const string System = "system";
    public const string User = "user";
    public const string Assistant = "assistant";
}
