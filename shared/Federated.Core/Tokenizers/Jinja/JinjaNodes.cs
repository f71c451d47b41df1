using System.Text;

namespace Federated.Core.Tokenizers.Jinja;

/// <summary>Variables visible at one point of a template: a for body or a macro call opens a scope, as in Jinja.</summary>
internal sealed class JinjaScope(JinjaScope? parent)
{
    private readonly Dictionary<string, object?> _values = [];

    public JinjaScope(Dictionary<string, object?> globals)
        : this((JinjaScope?)null)
    {
        foreach (var (name, value) in globals)
            _values[name] = value;
    }

    public object? Get(string name)
    {
        for (var scope = this; scope is not null; scope = scope.Parent)
        {
            if (scope._values.TryGetValue(name, out var value))
                return value;
        }
        return JinjaValues.Undefined;
    }

    public void Set(string name, object? value) => _values[name] = value;

    public JinjaScope? Parent { get; } = parent;
}

internal abstract class JinjaNode
{
    public abstract void Execute(JinjaScope scope, StringBuilder output);

    public static void ExecuteAll(List<JinjaNode> nodes, JinjaScope scope, StringBuilder output)
    {
        foreach (var node in nodes)
            node.Execute(scope, output);
    }
}

internal sealed class TextNode(string text) : JinjaNode
{
    public override void Execute(JinjaScope scope, StringBuilder output) => output.Append(text);
}

internal sealed class OutputNode(JinjaExpression expression) : JinjaNode
{
    public override void Execute(JinjaScope scope, StringBuilder output) => output.Append(JinjaValues.ToText(expression.Evaluate(scope)));
}

internal sealed class IfNode(List<(JinjaExpression Condition, List<JinjaNode> Body)> branches, List<JinjaNode>? otherwise) : JinjaNode
{
    public override void Execute(JinjaScope scope, StringBuilder output)
    {
        foreach (var (condition, body) in branches)
        {
            if (JinjaValues.IsTrue(condition.Evaluate(scope)))
            {
                ExecuteAll(body, scope, output);
                return;
            }
        }
        if (otherwise is not null)
            ExecuteAll(otherwise, scope, output);
    }
}

internal sealed class LoopControl(bool isBreak) : Exception
{
    public bool IsBreak { get; } = isBreak;
}

internal sealed class LoopControlNode(bool Break) : JinjaNode
{
    public override void Execute(JinjaScope scope, StringBuilder output) => throw new LoopControl(Break);
}

internal sealed class ForNode(List<string> targets, JinjaExpression iterable, JinjaExpression? filter, List<JinjaNode> body, List<JinjaNode>? otherwise) : JinjaNode
{
    public override void Execute(JinjaScope scope, StringBuilder output)
    {
        var items = JinjaValues.Iterate(iterable.Evaluate(scope), "for loop");
        if (filter is not null)
            items = [.. items.Where(item => JinjaValues.IsTrue(filter.Evaluate(Bind(new JinjaScope(scope), item))))];
        if (items.Count == 0)
        {
            if (otherwise is not null)
                ExecuteAll(otherwise, scope, output);
            return;
        }
        for (int i = 0; i < items.Count; i++)
        {
            var inner = Bind(new JinjaScope(scope), items[i]);
            inner.Set("loop", new Dictionary<string, object?>
            {
                ["index"] = (long)(i + 1),
                ["index0"] = (long)i,
                ["revindex"] = (long)(items.Count - i),
                ["revindex0"] = (long)(items.Count - i - 1),
                ["first"] = i == 0,
                ["last"] = i == items.Count - 1,
                ["length"] = (long)items.Count,
                ["previtem"] = i > 0 ? items[i - 1] : JinjaValues.Undefined,
                ["nextitem"] = i + 1 < items.Count ? items[i + 1] : JinjaValues.Undefined,
            });
            try
            {
                ExecuteAll(body, inner, output);
            }
            catch (LoopControl control)
            {
                if (control.IsBreak)
                    break;
            }
        }
    }

    private JinjaScope Bind(JinjaScope scope, object? item)
    {
        if (targets.Count == 1)
        {
            scope.Set(targets[0], item);
            return scope;
        }
        var parts = JinjaValues.Iterate(item, "for loop unpacking");
        if (parts.Count != targets.Count)
            throw new JinjaException($"chat template: for {string.Join(", ", targets)} in …: an item has {parts.Count} values, not {targets.Count}");
        for (int i = 0; i < targets.Count; i++)
            scope.Set(targets[i], parts[i]);
        return scope;
    }
}

internal sealed class SetNode(List<string> names, string? attribute, JinjaExpression? value, List<JinjaNode>? body) : JinjaNode
{
    public override void Execute(JinjaScope scope, StringBuilder output)
    {
        object? result;
        if (body is not null)
        {
            var captured = new StringBuilder();
            ExecuteAll(body, scope, captured);
            result = captured.ToString();
        }
        else
        {
            result = value!.Evaluate(scope);
        }
        if (attribute is not null)
        {
            if (scope.Get(names[0]) is not JinjaNamespace ns)
                throw new JinjaException($"chat template: set {names[0]}.{attribute}: {names[0]} is not a namespace()");
            ns[attribute] = result;
            return;
        }
        if (names.Count == 1)
        {
            scope.Set(names[0], result);
            return;
        }
        var parts = JinjaValues.Iterate(result, "set unpacking");
        if (parts.Count != names.Count)
            throw new JinjaException($"chat template: set {string.Join(", ", names)}: {parts.Count} values to unpack");
        for (int i = 0; i < names.Count; i++)
            scope.Set(names[i], parts[i]);
    }
}

internal sealed class MacroNode(string name, List<(string Name, JinjaExpression? Default)> parameters, List<JinjaNode> body) : JinjaNode
{
    public override void Execute(JinjaScope scope, StringBuilder output)
    {
        scope.Set(name, new JinjaCallable((args, keywords) =>
        {
            var inner = new JinjaScope(scope);
            for (int i = 0; i < parameters.Count; i++)
            {
                var (parameter, fallback) = parameters[i];
                inner.Set(parameter, i < args.Count ? args[i] : keywords.TryGetValue(parameter, out var k) ? k : fallback is null ? JinjaValues.Undefined : fallback.Evaluate(scope));
            }
            var text = new StringBuilder();
            ExecuteAll(body, inner, text);
            return text.ToString();
        }));
    }
}

internal abstract class JinjaExpression
{
    public abstract object? Evaluate(JinjaScope scope);
}

internal sealed class LiteralExpression(object? value) : JinjaExpression
{
    public override object? Evaluate(JinjaScope scope) => value;
}

internal sealed class NameExpression(string name) : JinjaExpression
{
    public override object? Evaluate(JinjaScope scope) => scope.Get(name);
}

internal sealed class ListExpression(List<JinjaExpression> items) : JinjaExpression
{
    public override object? Evaluate(JinjaScope scope) => items.Select(i => i.Evaluate(scope)).ToList();
}

internal sealed class DictExpression(List<(JinjaExpression Key, JinjaExpression Value)> pairs) : JinjaExpression
{
    public override object? Evaluate(JinjaScope scope)
    {
        var dict = new Dictionary<string, object?>();
        foreach (var (key, value) in pairs)
            dict[JinjaValues.ToText(key.Evaluate(scope))] = value.Evaluate(scope);
        return dict;
    }
}

internal sealed class TernaryExpression(JinjaExpression condition, JinjaExpression then, JinjaExpression otherwise) : JinjaExpression
{
    public override object? Evaluate(JinjaScope scope) => JinjaValues.IsTrue(condition.Evaluate(scope)) ? then.Evaluate(scope) : otherwise.Evaluate(scope);
}

internal sealed class LogicalExpression(JinjaExpression left, JinjaExpression right, bool And) : JinjaExpression
{
    public override object? Evaluate(JinjaScope scope)
    {
        var l = left.Evaluate(scope);
        return JinjaValues.IsTrue(l) == And ? right.Evaluate(scope) : l;
    }
}

internal sealed class NotExpression(JinjaExpression operand) : JinjaExpression
{
    public override object? Evaluate(JinjaScope scope) => !JinjaValues.IsTrue(operand.Evaluate(scope));
}

internal sealed class BinaryExpression(string op, JinjaExpression left, JinjaExpression right) : JinjaExpression
{
    public override object? Evaluate(JinjaScope scope) => JinjaValues.Binary(op, left.Evaluate(scope), right.Evaluate(scope));
}

internal sealed class AttributeExpression(JinjaExpression target, JinjaExpression key) : JinjaExpression
{
    public override object? Evaluate(JinjaScope scope) => JinjaValues.GetItem(target.Evaluate(scope), key.Evaluate(scope));

    /// <summary>For x.name(…): the receiver and method name where x has no item of that name (a string's strip, a dict's items).</summary>
    public (object? Receiver, string Method)? MethodCall(JinjaScope scope)
    {
        if (key is not LiteralExpression literal || literal.Evaluate(scope) is not string name)
            return null;
        var receiver = target.Evaluate(scope);
        if (receiver is Dictionary<string, object?> dict && dict.TryGetValue(name, out var member) && member is JinjaCallable)
            return null;
        return (receiver, name);
    }
}

internal sealed class SliceExpression(JinjaExpression target, JinjaExpression? start, JinjaExpression? stop, JinjaExpression? step) : JinjaExpression
{
    public override object? Evaluate(JinjaScope scope)
        => JinjaValues.Slice(target.Evaluate(scope), start?.Evaluate(scope), stop?.Evaluate(scope), step?.Evaluate(scope));
}

internal sealed class CallExpression(JinjaExpression target, List<JinjaExpression> args, Dictionary<string, JinjaExpression> keywords) : JinjaExpression
{
    public override object? Evaluate(JinjaScope scope)
    {
        var values = args.Select(a => a.Evaluate(scope)).ToList();
        var named = keywords.ToDictionary(k => k.Key, k => k.Value.Evaluate(scope));
        if (target is AttributeExpression { } attribute && attribute.MethodCall(scope) is var (receiver, method))
            return JinjaBuiltins.CallMethod(receiver, method, values, named);
        var callee = target.Evaluate(scope);
        return callee is JinjaCallable callable ? callable.Invoke(values, named) : throw new JinjaException($"chat template: {JinjaValues.Describe(callee)} is not callable");
    }
}

internal sealed class FilterExpression(JinjaExpression target, string name, List<JinjaExpression> args, Dictionary<string, JinjaExpression> keywords) : JinjaExpression
{
    public override object? Evaluate(JinjaScope scope)
        => JinjaBuiltins.Filter(name, target.Evaluate(scope), [.. args.Select(a => a.Evaluate(scope))], keywords.ToDictionary(k => k.Key, k => k.Value.Evaluate(scope)));
}

internal sealed class TestExpression(JinjaExpression target, string name, List<JinjaExpression> args) : JinjaExpression
{
    public override object? Evaluate(JinjaScope scope) => JinjaBuiltins.Test(name, target.Evaluate(scope), [.. args.Select(a => a.Evaluate(scope))]);
}

/// <summary>A function value: a macro, or a global such as raise_exception or namespace.</summary>
internal sealed class JinjaCallable(Func<List<object?>, Dictionary<string, object?>, object?> invoke)
{
    public object? Invoke(List<object?> args, Dictionary<string, object?> keywords) => invoke(args, keywords);
}

/// <summary>What namespace() makes: the one value a template may change from inside a loop.</summary>
internal sealed class JinjaNamespace : Dictionary<string, object?>;
