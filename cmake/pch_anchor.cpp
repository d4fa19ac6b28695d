// The one source of the precompiled-header targets (clcp_pch_light, clcp_pch_torch in CMakeLists.txt): CMake builds a
// target's precompiled header only with a translation unit to attach it to; the stages reuse it from there.
