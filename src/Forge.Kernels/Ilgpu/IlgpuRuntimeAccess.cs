using System.Runtime.CompilerServices;

// ILGPU's CPU emulator emits its launchers into a dynamic assembly named ILGPURuntime; they must see
// the internal kernel-argument structs (GemmArgs<T>, …), which stay internal to keep the public API to
// the op classes.
[assembly: InternalsVisibleTo("ILGPURuntime")]
