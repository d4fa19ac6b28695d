// Stateless hash noise for procedural textures. Texture detail is a pure function of (coordinates, salt), so it costs
// no Stream draws and is identical whichever thread renders the scene; the salt itself comes from the scene's Stream.
#pragma once
#include <cmath>
#include <cstdint>

namespace clcp::synth {

/// 32-bit integer hash (lowbias32 by C. Wellons): good avalanche, cheap.
inline uint32_t hash32(uint32_t x) {
  x ^= x >> 16; x *= 0x7feb352du; x ^= x >> 15; x *= 0x846ca68bu; x ^= x >> 16;
  return x;
}
inline uint32_t hash3(int32_t a, int32_t b, uint32_t salt) {
  return hash32(static_cast<uint32_t>(a) * 0x9E3779B1u ^ hash32(static_cast<uint32_t>(b) + 0x632BE5ABu) ^ salt);
}
/// Uniform in [0, 1) from a lattice point.
inline float hash01(int32_t a, int32_t b, uint32_t salt) { return (hash3(a, b, salt) >> 8) * (1.0f / 16777216.0f); }

/// Smooth value noise in [0, 1) at real coordinates (x, y), lattice spacing 1.
inline float value_noise(float x, float y, uint32_t salt) {
  const float fx = std::floor(x), fy = std::floor(y);
  const int32_t ix = static_cast<int32_t>(fx), iy = static_cast<int32_t>(fy);
  float tx = x - fx, ty = y - fy;
  tx = tx * tx * (3.f - 2.f * tx);
  ty = ty * ty * (3.f - 2.f * ty);
  const float a = hash01(ix, iy, salt), b = hash01(ix + 1, iy, salt);
  const float c = hash01(ix, iy + 1, salt), d = hash01(ix + 1, iy + 1, salt);
  return (a + (b - a) * tx) + ((c + (d - c) * tx) - (a + (b - a) * tx)) * ty;
}

/// Fractal (fBm) value noise, `octaves` octaves, result roughly in [0, 1).
inline float fbm(float x, float y, uint32_t salt, int octaves = 3) {
  float sum = 0.f, amp = 0.5f, norm = 0.f;
  for (int o = 0; o < octaves; ++o) {
    sum += amp * value_noise(x, y, salt + 101u * static_cast<uint32_t>(o));
    norm += amp;
    x *= 2.03f; y *= 2.03f; amp *= 0.5f;
  }
  return sum / norm;
}

}  // namespace clcp::synth
