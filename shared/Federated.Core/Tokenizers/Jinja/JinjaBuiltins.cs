using System.Globalization;

namespace Federated.Core.Tokenizers.Jinja;

/// <summary>The globals, filters, tests and methods of the supported subset.</summary>
internal static class JinjaBuiltins
{
    private static readonly string[] Filters =
        ["trim", "tojson", "length", "count", "upper", "lower", "title", "capitalize", "default", "d", "join", "first", "last", "list", "string", "int", "float", "abs", "replace", "reverse", "items", "selectattr", "rejectattr", "map", "safe", "indent", "unique", "sort"];

    private static readonly string[] Tests =
        ["defined", "undefined", "none", "string", "number", "integer", "float", "boolean", "mapping", "iterable", "sequence", "true", "false", "odd", "even", "eq", "equalto", "ne", "callable", "in"];

    public static string FilterNames => string.Join(", ", Filters);

    public static string TestNames => string.Join(", ", Tests);

    public static bool IsFilter(string name) => Filters.Contains(name);

    public static bool IsTest(string name) => Tests.Contains(name);

    public static Dictionary<string, object?> Globals() => new()
    {
        ["raise_exception"] = new JinjaCallable((args, _) => throw new JinjaException($"chat template raised: {(args.Count > 0 ? JinjaValues.ToText(args[0]) : "an error")}")),
        ["namespace"] = new JinjaCallable((args, keywords) =>
        {
            var ns = new JinjaNamespace();
            foreach (var (key, value) in keywords)
                ns[key] = value;
            return ns;
        }),
        ["range"] = new JinjaCallable((args, _) =>
        {
            var n = args.Select(a => a is long l ? l : throw new JinjaException("chat template: range() takes integers")).ToArray();
            var (start, stop, step) = n.Length switch { 1 => (0L, n[0], 1L), 2 => (n[0], n[1], 1L), 3 => (n[0], n[1], n[2]), _ => throw new JinjaException("chat template: range() takes 1 to 3 arguments") };
            var list = new List<object?>();
            for (long i = start; step > 0 ? i < stop : i > stop; i += step)
                list.Add(i);
            return list;
        }),
        ["dict"] = new JinjaCallable((_, keywords) => new Dictionary<string, object?>(keywords)),
    };

    public static object? Filter(string name, object? value, List<object?> args, Dictionary<string, object?> keywords)
    {
        object? Arg(int i, string keyword, object? fallback) => i < args.Count ? args[i] : keywords.TryGetValue(keyword, out var k) ? k : fallback;
        switch (name)
        {
            case "trim":
                return Text(value, name).Trim();
            case "tojson":
                return JinjaValues.ToJson(value, Arg(0, "indent", null) is long indent ? (int)indent : null);
            case "length" or "count":
                return value switch
                {
                    string s => (long)s.EnumerateRunes().Count(),
                    List<object?> list => (long)list.Count,
                    Dictionary<string, object?> dict => (long)dict.Count,
                    _ => throw new JinjaException($"chat template: | {name} of {JinjaValues.Describe(value)}"),
                };
            case "upper":
                return Text(value, name).ToUpperInvariant();
            case "lower":
                return Text(value, name).ToLowerInvariant();
            case "title":
                return Title(Text(value, name));
            case "capitalize":
                var c = Text(value, name);
                return c.Length == 0 ? c : char.ToUpperInvariant(c[0]) + c[1..].ToLowerInvariant();
            case "default" or "d":
                bool boolean = JinjaValues.IsTrue(Arg(1, "boolean", false));
                return value is JinjaValues.UndefinedValue || (boolean && !JinjaValues.IsTrue(value)) ? Arg(0, "default_value", "") : value;
            case "join":
                var separator = JinjaValues.ToText(Arg(0, "d", ""));
                var attribute = Arg(1, "attribute", null);
                return string.Join(separator, JinjaValues.Iterate(value, "| join").Select(x => JinjaValues.ToText(attribute is null ? x : JinjaValues.GetItem(x, attribute))));
            case "first":
                var firstItems = JinjaValues.Iterate(value, "| first");
                return firstItems.Count > 0 ? firstItems[0] : JinjaValues.Undefined;
            case "last":
                var lastItems = JinjaValues.Iterate(value, "| last");
                return lastItems.Count > 0 ? lastItems[^1] : JinjaValues.Undefined;
            case "list":
                return JinjaValues.Iterate(value, "| list").ToList();
            case "string":
                return JinjaValues.ToText(value);
            case "int":
                return value switch
                {
                    long l => l,
                    double d => (long)d,
                    string s when long.TryParse(s.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) => l,
                    _ => Arg(0, "default", 0L),
                };
            case "float":
                return value switch
                {
                    long l => (double)l,
                    double d => d,
                    string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
                    _ => Arg(0, "default", 0.0),
                };
            case "abs":
                return value switch { long l => Math.Abs(l), double d => Math.Abs(d), _ => throw new JinjaException($"chat template: | abs of {JinjaValues.Describe(value)}") };
            case "replace":
                return Text(value, name).Replace(JinjaValues.ToText(Arg(0, "old", "")), JinjaValues.ToText(Arg(1, "new", "")), StringComparison.Ordinal);
            case "reverse":
                return value is string rs ? string.Concat(rs.EnumerateRunes().Reverse().Select(r => r.ToString())) : Enumerable.Reverse(JinjaValues.Iterate(value, "| reverse")).ToList();
            case "items":
                return value is Dictionary<string, object?> itemsDict ? itemsDict.Select(p => (object?)new List<object?> { p.Key, p.Value }).ToList() : throw new JinjaException($"chat template: | items of {JinjaValues.Describe(value)}");
            case "selectattr" or "rejectattr":
                var attributeName = args.Count > 0 ? args[0] : throw new JinjaException($"chat template: | {name} needs an attribute name");
                bool keep = name == "selectattr";
                return JinjaValues.Iterate(value, "| " + name).Where(item =>
                {
                    var member = JinjaValues.GetItem(item, attributeName);
                    bool passes = args.Count > 1 ? JinjaValues.IsTrue(Test(JinjaValues.ToText(args[1]), member, args.Skip(2).ToList())) : JinjaValues.IsTrue(member);
                    return passes == keep;
                }).ToList();
            case "map":
                if (keywords.TryGetValue("attribute", out var mapAttribute))
                    return JinjaValues.Iterate(value, "| map").Select(item => JinjaValues.GetItem(item, mapAttribute) is JinjaValues.UndefinedValue && keywords.TryGetValue("default", out var fallback) ? fallback : JinjaValues.GetItem(item, mapAttribute)).ToList();
                if (args.Count > 0 && args[0] is string filterName && IsFilter(filterName))
                    return JinjaValues.Iterate(value, "| map").Select(item => Filter(filterName, item, args.Skip(1).ToList(), [])).ToList();
                throw new JinjaException("chat template: | map needs attribute= or the name of a supported filter");
            case "safe":
                return value;
            case "indent":
                var width = Arg(0, "width", 4L) is long w ? (int)w : 4;
                bool indentFirst = JinjaValues.IsTrue(Arg(1, "first", false));
                var lines = Text(value, name).Split('\n');
                var pad = new string(' ', width);
                return string.Join("\n", lines.Select((line, i) => (i == 0 && !indentFirst) || line.Length == 0 ? line : pad + line));
            case "unique":
                var unique = new List<object?>();
                foreach (var item in JinjaValues.Iterate(value, "| unique"))
                {
                    if (!unique.Any(u => JinjaValues.Equals(u, item)))
                        unique.Add(item);
                }
                return unique;
            case "sort":
                var sorted = JinjaValues.Iterate(value, "| sort").ToList();
                sorted.Sort((a, b) => JinjaValues.IsTrue(JinjaValues.Binary("<", a, b)) ? -1 : JinjaValues.IsTrue(JinjaValues.Binary("<", b, a)) ? 1 : 0);
                if (JinjaValues.IsTrue(Arg(0, "reverse", false)))
                    sorted.Reverse();
                return sorted;
            default:
                throw new JinjaException($"chat template: the filter | {name} is not supported");
        }
    }

    public static object? Test(string name, object? value, List<object?> args) => name switch
    {
        "defined" => value is not JinjaValues.UndefinedValue,
        "undefined" => value is JinjaValues.UndefinedValue,
        "none" => value is null,
        "string" => value is string,
        "number" => value is long or double,
        "integer" => value is long,
        "float" => value is double,
        "boolean" => value is bool,
        "mapping" => value is Dictionary<string, object?>,
        "iterable" => value is string or List<object?> or Dictionary<string, object?>,
        "sequence" => value is string or List<object?> or Dictionary<string, object?>,
        "true" => value is true,
        "false" => value is false,
        "odd" => value is long l && l % 2 != 0,
        "even" => value is long e && e % 2 == 0,
        "eq" or "equalto" => args.Count == 1 ? JinjaValues.Equals(value, args[0]) : throw new JinjaException($"chat template: is {name} takes one value"),
        "ne" => args.Count == 1 ? !JinjaValues.Equals(value, args[0]) : throw new JinjaException("chat template: is ne takes one value"),
        "callable" => value is JinjaCallable,
        "in" => args.Count == 1 ? JinjaValues.Binary("in", value, args[0]) : throw new JinjaException("chat template: is in takes one value"),
        _ => throw new JinjaException($"chat template: the test is {name} is not supported"),
    };

    public static object? CallMethod(object? receiver, string method, List<object?> args, Dictionary<string, object?> keywords)
    {
        object? Arg(int i) => i < args.Count ? args[i] : null;
        string? Chars(int i) => Arg(i) is string s ? s : null;
        switch (receiver)
        {
            case string s:
                switch (method)
                {
                    case "strip":
                        return Chars(0) is { } both ? s.Trim(both.ToCharArray()) : s.Trim();
                    case "lstrip":
                        return Chars(0) is { } left ? s.TrimStart(left.ToCharArray()) : s.TrimStart();
                    case "rstrip":
                        return Chars(0) is { } right ? s.TrimEnd(right.ToCharArray()) : s.TrimEnd();
                    case "split":
                        var limit = Arg(1) is long max ? (int)max + 1 : int.MaxValue;
                        if (Chars(0) is { } separator)
                            return s.Split(separator, limit).Select(p => (object?)p).ToList();
                        return s.Split((char[]?)null, limit, StringSplitOptions.RemoveEmptyEntries).Select(p => (object?)p).ToList();
                    case "startswith":
                        return Arg(0) is List<object?> prefixes ? prefixes.Any(p => s.StartsWith(JinjaValues.ToText(p), StringComparison.Ordinal)) : s.StartsWith(JinjaValues.ToText(Arg(0)), StringComparison.Ordinal);
                    case "endswith":
                        return Arg(0) is List<object?> suffixes ? suffixes.Any(p => s.EndsWith(JinjaValues.ToText(p), StringComparison.Ordinal)) : s.EndsWith(JinjaValues.ToText(Arg(0)), StringComparison.Ordinal);
                    case "replace":
                        return s.Replace(JinjaValues.ToText(Arg(0)), JinjaValues.ToText(Arg(1)), StringComparison.Ordinal);
                    case "upper":
                        return s.ToUpperInvariant();
                    case "lower":
                        return s.ToLowerInvariant();
                    case "title":
                        return Title(s);
                    case "capitalize":
                        return s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant();
                    case "find":
                        return (long)s.IndexOf(JinjaValues.ToText(Arg(0)), StringComparison.Ordinal);
                    case "count":
                        var needle = JinjaValues.ToText(Arg(0));
                        return needle.Length == 0 ? (long)s.Length + 1 : (long)((s.Length - s.Replace(needle, "", StringComparison.Ordinal).Length) / needle.Length);
                    case "join":
                        return string.Join(s, JinjaValues.Iterate(Arg(0), "str.join").Select(JinjaValues.ToText));
                }
                break;
            case Dictionary<string, object?> dict:
                switch (method)
                {
                    case "get":
                        return Arg(0) is string key && dict.TryGetValue(key, out var value) ? value : args.Count > 1 ? args[1] : null;
                    case "items":
                        return dict.Select(p => (object?)new List<object?> { p.Key, p.Value }).ToList();
                    case "keys":
                        return dict.Keys.Select(k => (object?)k).ToList();
                    case "values":
                        return dict.Values.ToList();
                }
                break;
        }
        throw new JinjaException($"chat template: {JinjaValues.Describe(receiver)} has no method {method}() here");
    }

    private static string Title(string s)
    {
        var chars = s.ToCharArray();
        bool start = true;
        for (int i = 0; i < chars.Length; i++)
        {
            chars[i] = start ? char.ToUpperInvariant(chars[i]) : char.ToLowerInvariant(chars[i]);
            start = !char.IsLetterOrDigit(chars[i]);
        }
        return new string(chars);
    }

    private static string Text(object? value, string filter)
        => value as string ?? (value is JinjaValues.UndefinedValue ? "" : throw new JinjaException($"chat template: | {filter} needs a string, got {JinjaValues.Describe(value)}"));
}
