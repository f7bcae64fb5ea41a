namespace Forge;

/// <summary>
/// Thrown when tensor shapes do not fit an operation. The message always names the operation and
/// every shape involved, e.g. <c>MatMul: inner dimensions differ: [2, 3] · [4, 5]</c>.
/// </summary>
public sealed class ShapeException : ArgumentException
{
    public ShapeException(string operation, string problem, params int[][] shapes)
        : base($"{operation}: {problem}: {string.Join(" and ", shapes.Select(Shape.Format))}") { }

    public ShapeException(string message) : base(message) { }
}
