using Noether.Tensors;

namespace Noether.Nn;

/// <summary>Copies of a SPEC CNN in another (or the same) precision, and SPEC CNNs rebuilt from saved weights.</summary>
public static class SpecCnnCopy
{
    /// <summary>
    /// A SPEC CNN holding named weights such as a safetensors file gives (PyTorch <c>state_dict</c> names: "0.weight"
    /// [O, C, 3, 3], "0.bias" [O], "3.weight" [h, O·(S/2)²], "3.bias" [h], "5.weight" [classes, h], "5.bias" [classes]).
    /// The architecture is read off the shapes; the image side S from the hidden layer's input width unless given.
    /// </summary>
    /// <param name="tensors">The named tensors (copied).</param>
    /// <param name="leakySlope">LeakyReLU's slope (not stored with the weights).</param>
    /// <param name="imageSize">The image side, or null to infer it from "3.weight".</param>
    /// <exception cref="ArgumentException">A name is missing or unexpected, a shape does not fit the architecture or the
    /// other tensors, or a value is not finite — the message names the tensor and both shapes.</exception>
    public static SpecCnn<T> FromTensors<T>(IReadOnlyList<(string Name, Tensor<T> Tensor)> tensors, double leakySlope = Activation.PyTorchLeakySlope, int? imageSize = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var byName = new Dictionary<string, Tensor<T>>();
        foreach (var (name, tensor) in tensors)
        {
            if (name is null || tensor is null) throw Errors.Argument(nameof(tensors), "SPEC CNN weights: a tensor or its name is null");
            if (!byName.TryAdd(name, tensor)) throw Errors.Argument(nameof(tensors), $"SPEC CNN weights: '{name}' occurs twice");
        }
        string[] expected = ["0.weight", "0.bias", "3.weight", "3.bias", "5.weight", "5.bias"];
        var missing = expected.Where(n => !byName.ContainsKey(n)).ToArray();
        var extra = byName.Keys.Where(n => !expected.Contains(n)).ToArray();
        if (missing.Length > 0 || extra.Length > 0)
            throw Errors.Argument(nameof(tensors), $"SPEC CNN weights: expected the tensors {string.Join(", ", expected)}" +
                (missing.Length > 0 ? $"; missing {string.Join(", ", missing)}" : "") + (extra.Length > 0 ? $"; unexpected {string.Join(", ", extra)}" : "") +
                " (conv 3×3 → max-pool → linear h → LeakyReLU → linear classes)");
        var conv = byName["0.weight"];
        var hidden = byName["3.weight"];
        var output = byName["5.weight"];
        if (conv.Rank != 4 || conv.Dim(2) != 3 || conv.Dim(3) != 3)
            throw Errors.BadShape("SPEC CNN weights", "0.weight", conv.Shape, "[channels, image channels, 3, 3]");
        if (hidden.Rank != 2) throw Errors.BadShape("SPEC CNN weights", "3.weight", hidden.Shape, "[h, features]");
        if (output.Rank != 2) throw Errors.BadShape("SPEC CNN weights", "5.weight", output.Shape, "[classes, h]");
        int channels = conv.Dim(0), inChannels = conv.Dim(1), h = hidden.Dim(0), classes = output.Dim(0);
        int side = imageSize ?? InferSide(hidden.Dim(1), channels);
        var model = Models.SpecCnn<T>(new Random(0), inChannels, side, classes, channels, h, leakySlope);
        foreach (var parameter in model.Parameters)
        {
            var source = byName[parameter.Name];
            if (!source.Shape.SequenceEqual(parameter.Value.Shape))
                throw Errors.ShapeMismatch("SPEC CNN weights", parameter.Name, source.Shape, "architecture", parameter.Value.Shape,
                    $"a SPEC CNN with {inChannels}-channel {side}×{side} images, {channels} conv channels, h = {h} and {classes} classes needs {parameter.Name} of shape {Errors.Shape(parameter.Value.Shape)}");
            if (!source.AllFinite()) throw Errors.Argument(nameof(tensors), $"SPEC CNN weights: {parameter.Name} contains NaN or ∞");
            parameter.Value.CopyFrom(source);
        }
        return model;

        static int InferSide(int features, int channels)
        {
            int pooled = (int)Math.Round(Math.Sqrt(features / (double)channels));
            if (channels < 1 || pooled < 1 || channels * pooled * pooled != features)
                throw Errors.Argument(nameof(tensors), $"SPEC CNN weights: the hidden layer takes {features} features, not {channels} channels × a square pooled image; pass the image size");
            return 2 * pooled;
        }
    }

    /// <summary>
    /// A new SPEC CNN of the same architecture holding <paramref name="model"/>'s weights converted to
    /// <typeparamref name="TTo"/> (float32 → float64 is exact), e.g. for float64 checks of a float32 model.
    /// </summary>
    public static SpecCnn<TTo> Convert<TFrom, TTo>(SpecCnn<TFrom> model)
        where TFrom : unmanaged, IFloatingPointIeee754<TFrom>
        where TTo : unmanaged, IFloatingPointIeee754<TTo>
    {
        ArgumentNullException.ThrowIfNull(model);
        // The initial draw is overwritten below; the generator only satisfies the constructor.
        var copy = Models.SpecCnn<TTo>(new Random(0), model.InChannels, model.ImageSize, model.Output.OutFeatures,
            model.Conv.OutChannels, model.Hidden.OutFeatures, model.Activation.Slope);
        var source = model.Parameters;
        var target = copy.Parameters;
        if (source.Count != target.Count)
            throw Errors.Argument(nameof(model), $"SPEC CNN copy: the model has {source.Count} parameter tensors, the architecture {target.Count}");
        for (int i = 0; i < source.Count; i++)
        {
            if (source[i].Name != target[i].Name || !source[i].Value.Shape.SequenceEqual(target[i].Value.Shape))
                throw Errors.Argument(nameof(model), $"SPEC CNN copy: parameter {i} is {source[i]}, the architecture expects {target[i]}");
            target[i].Value.CopyFrom(source[i].Value.Cast<TTo>());
        }
        return copy;
    }
}
