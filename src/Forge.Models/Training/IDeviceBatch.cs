namespace Forge.Models.Training;

/// <summary>
/// A batch written on the host and read by the model on its device: the trainer calls
/// <see cref="Upload"/> after every fill (a no-op when the device is the CPU).
/// </summary>
public interface IDeviceBatch
{
    /// <summary>Copies what was written on the host into the device tensors.</summary>
    void Upload();
}
