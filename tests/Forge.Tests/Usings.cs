global using NUnit.Framework;
global using Forge;
