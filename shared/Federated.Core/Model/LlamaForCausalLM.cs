using System.Security.Cryptography;
using System.Runtime.InteropServices;
using Federated.Core.Adapters;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Federated.Core.Model;

/// <summary>
/// A Llama-family causal language model (Llama 2/3, TinyLlama, SmolLM2, Qwen2 share this shape) whose
/// parameters carry Hugging Face's names, with LoRA branches on chosen linear layers. The base weights
/// are frozen; only LoRA factors train.
/// </summary>
public sealed class LlamaForCausalLM : nn.Module<Tensor, Tensor>
{
    [ComponentName(Name = "model")]
    private readonly LlamaModel _model;

    [ComponentName(Name = "lm_head")]
    private readonly LoraLinear? _lmHead;

    private readonly Dictionary<string, LoraLinear> _linears;

    private ScalarType? _computeType;
    private Tensor? _tiedHeadCast;
    private Generator? _dropoutGenerator;

    /// <summary>
    /// A model of <paramref name="config"/>'s shape whose base weights are uninitialised memory (the norms are 1):
    /// the caller fills them all, as the checkpoint loaders and <see cref="BuiltinModels.Create(LlamaConfig, string, Device)"/> do,
    /// so that loading writes each weight once instead of initialising it and overwriting it.
    /// </summary>
    public LlamaForCausalLM(LlamaConfig config, Device device)
        : base("LlamaForCausalLM")
    {
        config.Validate();
        Config = config;
        Device = device;
        _model = new LlamaModel("model", config, config.AttentionBias, device);
        _lmHead = config.TieWordEmbeddings ? null : new LoraLinear("lm_head", config.HiddenSize, config.VocabSize, false, device);
        RegisterComponents();
        foreach (var parameter in parameters())
            parameter.requires_grad = false;
        _linears = named_modules()
            .Where(m => m.module is LoraLinear && m.name != "lm_head")
            .ToDictionary(m => m.name, m => (LoraLinear)m.module, StringComparer.Ordinal);
    }

    public LlamaConfig Config { get; }

    public Device Device { get; }

    /// <summary>The decoder's linear layers by module name, e.g. model.layers.0.self_attn.q_proj.</summary>
    public IReadOnlyDictionary<string, LoraLinear> Linears => _linears;

    /// <summary>Token ids [batch, seq] (int64) to next-token logits [batch, seq, vocab].</summary>
    public override Tensor forward(Tensor tokens) => Logits(_model.forward(tokens));

    /// <summary>
    /// Logits [batch, n, vocab] of new tokens [batch, n] that follow the <see cref="KeyValueCache.Length"/> positions held in
    /// <paramref name="cache"/>, which they join: the prompt in one call, then one token per call.
    /// </summary>
    public Tensor ForwardCached(Tensor tokens, KeyValueCache cache) => Logits(_model.ForwardCached(tokens, cache));

    private Tensor Logits(Tensor hidden)
    {
        if (_lmHead is not null)
            return _lmHead.forward(hidden);
        return _tiedHeadCast is null
            ? nn.functional.linear(hidden, _model.EmbeddingWeight)
            : nn.functional.linear(hidden.to(_tiedHeadCast.dtype), _tiedHeadCast).to(hidden.dtype);
    }

    /// <summary>Gives LoRA dropout its own generator, seeded, so training draws the same masks on every run.</summary>
    public void SeedDropout(ulong seed)
    {
        _dropoutGenerator?.Dispose();
        _dropoutGenerator = new Generator(seed, Device);
        foreach (var linear in _linears.Values)
            linear.DropoutGenerator = _dropoutGenerator;
    }

    /// <summary>The final hidden states [batch, seq, hidden] the output projection turns into logits.</summary>
    public Tensor Hidden(Tensor tokens) => _model.forward(tokens);

    /// <summary>The frozen output projection [vocab, hidden]: lm_head, or the embeddings when tied.</summary>
    public Tensor HeadWeight => _lmHead?.Weight ?? _model.EmbeddingWeight;

    /// <summary>Recompute each decoder layer in the backward pass instead of keeping its activations.</summary>
    public bool GradientCheckpointing
    {
        get => _model.GradientCheckpointing;
        set => _model.GradientCheckpointing = value;
    }

    /// <summary>The type the matrix products run in (bf16 or fp16), or null for the weights' own; see <see cref="LoraLinear.SetComputeType"/>.</summary>
    public ScalarType? ComputeType
    {
        get => _computeType;
        set
        {
            _computeType = value;
            foreach (var linear in _linears.Values)
                linear.SetComputeType(value);
            _lmHead?.SetComputeType(value);
            _tiedHeadCast?.Dispose();
            _tiedHeadCast = null;
            if (_lmHead is null && value is { } type && type != _model.EmbeddingWeight.dtype)
            {
                using var noGrad = no_grad();
                _tiedHeadCast = _model.EmbeddingWeight.detach().to(type).DetachFromDisposeScope();
            }
        }
    }

    /// <summary>Gives each target module a fresh LoRA branch, initialised from <paramref name="seed"/>.</summary>
    public IReadOnlyList<string> AttachLora(LoraSettings settings, IEnumerable<string> projections, ulong seed)
    {
        var layout = TargetModules.Layout(Config, projections);
        using var generator = new Generator(seed);
        foreach (var module in layout.ModuleNames)
            _linears[module].AttachLora(settings, generator);
        return layout.ModuleNames;
    }

    public void DetachLora()
    {
        foreach (var linear in _linears.Values)
            linear.DetachLora();
    }

    public IReadOnlyList<Parameter> LoraParameters()
        => _linears.Values.Where(l => l.Lora is not null).SelectMany(l => new[] { l.LoraA!, l.LoraB! }).ToList();

    /// <summary>Copies the trained LoRA factors out as an adapter with scale alpha / r.</summary>
    public LoraAdapter ExportLora()
    {
        var modules = new List<KeyValuePair<string, LoraFactors>>();
        LoraSettings? settings = null;
        foreach (var (name, linear) in _linears)
        {
            if (linear.Lora is not { } lora)
                continue;
            settings ??= lora;
            modules.Add(new(name, new LoraFactors(ToMatrix(linear.LoraA!), ToMatrix(linear.LoraB!))));
        }
        if (settings is null)
            throw new InvalidOperationException("the model has no LoRA branches to export");
        return new LoraAdapter(modules, settings.Scaling);
    }

    /// <summary>Adds an adapter's update, scale · B · A, into the frozen base weights of every module it covers.</summary>
    public void MergeAdapter(LoraAdapter adapter)
    {
        foreach (var module in adapter.ModuleNames)
        {
            if (!_linears.TryGetValue(module, out var linear))
                throw new AdapterFormatException($"adapter module '{module}' is not a linear layer of this model");
            var factors = adapter[module];
            if (factors.InFeatures != linear.InFeatures || factors.OutFeatures != linear.OutFeatures)
                throw new AdapterFormatException($"adapter module '{module}' is {factors.OutFeatures}×{factors.InFeatures} but the model's layer is {linear.OutFeatures}×{linear.InFeatures}");
        }
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        foreach (var module in adapter.ModuleNames)
        {
            var factors = adapter[module];
            var a = tensor(factors.A.Data, [factors.A.Rows, factors.A.Columns]).to(Device);
            var b = tensor(factors.B.Data, [factors.B.Rows, factors.B.Columns]).to(Device);
            _linears[module].MergeDelta(b.matmul(a).mul_(adapter.Scale));
        }
    }

    /// <summary>SHA-256 over every base parameter's name, shape and float32 bytes, in name order: identifies the weights.</summary>
    public string Fingerprint()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (name, parameter) in named_parameters().OrderBy(p => p.name, StringComparer.Ordinal))
        {
            using var scope = NewDisposeScope();
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes(name + "[" + string.Join(",", parameter.shape) + "]"));
            var cpu = parameter.detach().to(ScalarType.Float32).cpu().contiguous();
            hash.AppendData(MemoryMarshal.AsBytes(cpu.data<float>().ToArray().AsSpan()));
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _tiedHeadCast?.Dispose();
            _tiedHeadCast = null;
            _dropoutGenerator?.Dispose();
            _dropoutGenerator = null;
        }
        base.Dispose(disposing);
    }

    private static Matrix ToMatrix(Tensor t)
    {
        using var scope = NewDisposeScope();
        var cpu = t.detach().cpu().contiguous();
        return new Matrix((int)t.shape[0], (int)t.shape[1], cpu.data<float>().ToArray());
    }
}
