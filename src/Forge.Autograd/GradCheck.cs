namespace Forge.Autograd;

/// <summary>
/// Checks analytic gradients against central finite differences in float64:
/// numeric = (f(x + ε) − f(x − ε)) / 2ε for every input element.
/// <para>
/// A non-scalar output is projected to a scalar with fixed random weights, L = Σ f(x)⊙R, so one check
/// covers the whole Jacobian (a wrong entry survives only if it happens to be orthogonal to R).
/// The error of an element is |analytic − numeric| / max(|analytic|, |numeric|, floor): relative where
/// the gradient is large, absolute (scaled by 1/floor) where it is near zero, because a relative error
/// of two tiny numbers measures only round-off.
/// </para>
/// </summary>
public static class GradCheck
{
    public sealed record Result(double MaxError, string WorstInput, int WorstIndex, double Analytic, double Numeric)
    {
        public override string ToString() =>
            $"max error {MaxError:E2} at input {WorstInput}[{WorstIndex}]: analytic {Analytic:G10}, numeric {Numeric:G10}";
    }

    /// <summary>Runs the check on <paramref name="f"/> at <paramref name="inputs"/> (inputs are copied, not modified).</summary>
    public static Result Run(Func<Var<double>[], Var<double>> f, Tensor<double>[] inputs, double eps = 1e-5, double floor = 1e-3)
    {
        var parameters = inputs.Select((t, i) => Var<double>.Parameter(t.Clone(), $"input{i}")).ToArray();
        Tensor<double>? projection = null;
        var tape = new Tape<double>();
        Var<double> loss;
        using (tape.Record()) loss = Project(f(parameters), ref projection);
        tape.Backward(loss);

        var worst = new Result(0, "-", -1, 0, 0);
        foreach (var parameter in parameters)
        {
            var values = parameter.Data.AsSpan();
            var analytic = parameter.Grad.AsSpan();
            for (int j = 0; j < values.Length; j++)
            {
                double numeric = NumericDerivative(f, parameters, parameter, j, eps, ref projection);
                double error = Math.Abs(analytic[j] - numeric) / Math.Max(floor, Math.Max(Math.Abs(analytic[j]), Math.Abs(numeric)));
                if (error > worst.MaxError || double.IsNaN(error))
                    worst = new Result(error, parameter.Name!, j, analytic[j], numeric);
            }
        }
        return worst;
    }

    static double NumericDerivative(Func<Var<double>[], Var<double>> f, Var<double>[] all, Var<double> parameter, int index, double eps, ref Tensor<double>? projection)
    {
        var values = parameter.Data.AsSpan();
        double original = values[index];
        using (GradMode.NoGrad())
        {
            values[index] = original + eps;
            double plus = Project(f(all), ref projection).Item();
            values = parameter.Data.AsSpan();
            values[index] = original - eps;
            double minus = Project(f(all), ref projection).Item();
            values = parameter.Data.AsSpan();
            values[index] = original;
            return (plus - minus) / (2 * eps);
        }
    }

    static Var<double> Project(Var<double> output, ref Tensor<double>? projection)
    {
        if (output.Data.Length == 1) return output.Reshape([]);
        projection ??= Tensor.Normal(new Rng(20261122), 0.0, 1.0, output.Shape);
        return (output * Var<double>.Constant(projection)).Sum();
    }
}
