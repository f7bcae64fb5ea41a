namespace Forge.Models.Training;

/// <summary>
/// Next-token prediction quality over the counted positions of a data set: mean cross-entropy,
/// per-token accuracy, mean probability of the correct token, mean entropy of the predicted
/// distribution (nats), mean confidence (the top probability) and a reliability table.
/// </summary>
public sealed record TokenMetrics(double Loss, double Accuracy, double MeanCorrectProbability, double MeanEntropy, double MeanConfidence, long Count, ReliabilityBin[] Reliability)
{
    public const int ReliabilityBins = 10;
}

/// <summary>Predictions whose confidence fell in [Low, High): how many, and how often they were right.</summary>
public sealed record ReliabilityBin(double Low, double High, long Count, double MeanConfidence, double Accuracy);
