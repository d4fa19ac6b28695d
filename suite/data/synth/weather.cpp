// Conditions (see weather.hpp).
#include "suite/data/synth/weather.hpp"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "suite/core/error.hpp"
#include "suite/data/synth/noise.hpp"

namespace clcp::synth {
namespace {

cv::Vec3f mix_colour(const cv::Vec3f& a, const cv::Vec3f& b, float t) { return a * (1 - t) + b * t; }

/// World position of pixel (u, v) from its depth.
cv::Vec3f world(const Camera& c, int u, int v, float z) {
  return {c.x + ((u + 0.5f) - c.cx) * z / c.f, c.h + (c.cy - (v + 0.5f)) * z / c.fv(), c.z + z};
}

void fog(cv::Mat3f& img, const cv::Mat1f& depth, float beta, const cv::Vec3f& airlight) {
  for (int v = 0; v < img.rows; ++v) {
    auto* p = img.ptr<cv::Vec3f>(v);
    const float* d = depth.ptr<float>(v);
    for (int u = 0; u < img.cols; ++u) {
      const float t = std::exp(-beta * d[u]);
      p[u] = p[u] * t + airlight * (1 - t);
    }
  }
}

float gauss_hash(int u, int v, uint32_t salt) {
  const float s = hash01(u, v, salt) + hash01(u, v, salt ^ 0x1111u) + hash01(u, v, salt ^ 0x2222u) +
                  hash01(u, v, salt ^ 0x3333u);
  return (s - 2.f) * 1.7320508f;  // Irwin–Hall(4), unit variance
}

void night(const Frame& f, cv::Mat3f& img, double sev, Stream& rng) {
  const Camera& c = f.cam;
  const float ambient = 0.1f * std::exp(-0.7f * static_cast<float>(sev));
  const cv::Vec3f amb_tint{0.75f, 0.85f, 1.15f};
  const uint32_t salt = rng.next_u32();
  for (int v = 0; v < img.rows; ++v) {
    auto* p = img.ptr<cv::Vec3f>(v);
    const float* d = f.depth.ptr<float>(v);
    const uint8_t* fl = f.flags.ptr<uint8_t>(v);
    const float dy = (c.cy - (v + 0.5f)) / c.fv();
    for (int u = 0; u < img.cols; ++u) {
      if (fl[u] & kSkyPixel) {  // dark sky with a little city glow at the horizon
        p[u] = cv::Vec3f(0.015f, 0.02f, 0.045f) + cv::Vec3f(0.09f, 0.06f, 0.035f) * std::exp(-dy * 8.f) +
               p[u] * 0.02f;
        continue;
      }
      const cv::Vec3f P = world(c, u, v, d[u]);
      cv::Vec3f light = amb_tint * ambient;
      for (const Light& l : f.lights) {
        const cv::Vec3f q = P - l.pos;
        if (l.headlight) {
          const float along = -q[2];
          if (along <= 0) continue;
          const float lat = std::abs(q[0]), spread = 0.3f + 0.25f * along;
          light += l.color * (l.intensity / (1 + (along * along) / (l.radius * l.radius)) *
                              std::exp(-(lat * lat) / (spread * spread)));
        } else {
          light += l.color * (l.intensity / (1 + q.dot(q) / (l.radius * l.radius)));
        }
      }
      // Ego low beams, mounted at ±0.7 m, 0.7 m high: light the road ahead (coordinates relative to the car).
      const float ahead = P[2] - c.z, side = P[0] - c.x;
      if (ahead > 1.5f && P[1] < 2.5f) {
        for (float mx : {-0.7f, 0.7f}) {
          const float lat = std::abs(side - mx), spread = 0.15f + 0.12f * ahead;
          light += cv::Vec3f(1.f, 0.95f, 0.85f) * (0.6f / (1 + (ahead * ahead) / 300.f) *
                                                   std::exp(-(lat * lat) / (spread * spread)) *
                                                   std::exp(-std::max(0.f, P[1] - 0.7f)));
        }
      }
      p[u] = p[u].mul(light);
    }
  }
  // Emitters and their bloom.
  cv::Mat3f bloom;
  const double sigma = std::max(1.0, img.cols / 180.0);
  cv::GaussianBlur(f.emission, bloom, cv::Size(0, 0), sigma);
  img += f.emission * 0.6f + bloom * 0.5f;
  const float sn = 0.02f + 0.015f * static_cast<float>(sev);
  for (int v = 0; v < img.rows; ++v) {
    auto* p = img.ptr<cv::Vec3f>(v);
    for (int u = 0; u < img.cols; ++u) {
      const float g = gauss_hash(u, v, salt);
      const float cn = gauss_hash(u, v, salt ^ 0xBEEFu) * 0.4f;
      p[u] += cv::Vec3f(sn * (g + cn), sn * g, sn * (g - cn));
    }
  }
}

void overcast_sky(const Frame& f, cv::Mat3f& img, const cv::Vec3f& grey) {
  for (int v = 0; v < img.rows; ++v) {
    auto* p = img.ptr<cv::Vec3f>(v);
    const uint8_t* fl = f.flags.ptr<uint8_t>(v);
    for (int u = 0; u < img.cols; ++u)
      if (fl[u] & kSkyPixel) {
        const float l = (p[u][0] + p[u][1] + p[u][2]) / 3.f;
        p[u] = grey * (0.85f + 0.2f * l);
      }
  }
}

void rain(const Frame& f, cv::Mat3f& img, double sev, Stream& rng) {
  const float s = static_cast<float>(std::min(sev, 3.0));
  overcast_sky(f, img, {0.55f, 0.57f, 0.6f});
  const cv::Mat3f dry = img.clone();
  const Camera& c = f.cam;
  const float wet = std::max(0.35f, 1.f - 0.28f * s);
  for (int u = 0; u < img.cols; ++u) {
    for (int v = 0; v < img.rows; ++v) {
      const uint8_t fl = f.flags(v, u);
      if (fl & kSkyPixel) continue;
      cv::Vec3f& p = img(v, u);
      p *= wet;
      if (!(fl & kRoadSurface)) continue;
      // Mirror reflection in the wet road: the first non-ground pixel above whose mirror image falls on this row.
      for (int vo = v - 1; vo >= 0; --vo) {
        if (f.flags(vo, u) & kGround) continue;
        const float z = f.depth(vo, u);
        const float y = c.h + (c.cy - (vo + 0.5f)) * z / c.fv();
        const float vm = c.cy + c.fv() * (c.h + y) / z;
        if (vm <= v + 0.5f) {
          p += dry(vo, u) * (0.22f * std::min(s, 1.5f));
          break;
        }
      }
    }
  }
  fog(img, f.depth, 0.008f * s, {0.5f, 0.52f, 0.55f});
  // Streaks: short slanted lines, motion-blurred.
  cv::Mat1f layer(img.rows, img.cols, 0.f);
  const int n = static_cast<int>(0.004 * img.cols * img.rows * s);
  const double slant = rng.uniform(-0.35, 0.1);
  for (int i = 0; i < n; ++i) {
    const double x = rng.uniform(0, img.cols), y = rng.uniform(0, img.rows);
    const double len = rng.uniform(0.02, 0.08) * img.rows;
    const double a = slant + rng.uniform(-0.05, 0.05);
    const float b = static_cast<float>(rng.uniform(0.25, 0.7));
    cv::line(layer, {static_cast<int>(x * 16), static_cast<int>(y * 16)},
             {static_cast<int>((x + a * len) * 16), static_cast<int>((y + len) * 16)}, cv::Scalar(b), 1, cv::LINE_AA,
             4);
  }
  cv::GaussianBlur(layer, layer, cv::Size(3, 3), 0.7);
  for (int v = 0; v < img.rows; ++v) {
    auto* p = img.ptr<cv::Vec3f>(v);
    const float* l = layer.ptr<float>(v);
    for (int u = 0; u < img.cols; ++u) {
      const float a = std::min(l[u], 1.f);
      p[u] = p[u] * (1 - 0.5f * a) + cv::Vec3f(0.8f, 0.82f, 0.85f) * (0.5f * a);
    }
  }
}

void snow(const Frame& f, cv::Mat3f& img, double sev, Stream& rng) {
  const float s = static_cast<float>(std::min(sev, 3.0));
  const uint32_t salt = rng.next_u32();
  overcast_sky(f, img, {0.78f, 0.8f, 0.84f});
  const float cover = std::clamp(0.35f + 0.4f * s, 0.f, 1.f);
  const Camera& c = f.cam;
  const cv::Vec3f white{0.9f, 0.92f, 0.96f};
  for (int v = 0; v < img.rows; ++v) {
    auto* p = img.ptr<cv::Vec3f>(v);
    const uint8_t* fl = f.flags.ptr<uint8_t>(v);
    const float* d = f.depth.ptr<float>(v);
    for (int u = 0; u < img.cols; ++u) {
      if (fl[u] & kSkyPixel) continue;
      float a = 0.f;
      if (fl[u] & kHorizontal) {
        const cv::Vec3f P = world(c, u, v, d[u]);
        const float n = fbm(P[0] * 0.9f, P[2] * 0.5f, salt, 3);
        a = std::clamp(cover * (0.6f + 0.8f * n), 0.f, 1.f);
        if (fl[u] & kRoadSurface) {  // tyre tracks stay darker
          const float lane = std::fmod(std::abs(P[0]) + 0.4f, 1.9f);
          a *= lane < 0.8f ? 0.25f : 0.6f;
        }
      } else if (fl[u] & kFoliage) {
        a = cover * 0.6f * std::clamp(fbm(u * 0.3f, v * 0.3f, salt ^ 0x5u, 2) * 1.6f - 0.4f, 0.f, 1.f);
      }
      const float grain = 0.04f * (hash01(u, v, salt ^ 0x77u) - 0.5f);
      p[u] = mix_colour(p[u] * 0.92f + cv::Vec3f(0.02f, 0.03f, 0.05f), white + cv::Vec3f::all(grain), a);
    }
  }
  fog(img, f.depth, 0.012f * s, {0.82f, 0.84f, 0.88f});
  cv::Mat1f layer(img.rows, img.cols, 0.f);
  const int n = static_cast<int>(0.003 * img.cols * img.rows * s);
  const double scale = img.cols / 512.0;
  for (int i = 0; i < n; ++i) {
    const double x = rng.uniform(0, img.cols), y = rng.uniform(0, img.rows);
    const double r = rng.uniform(0.4, 2.2) * scale;
    const float b = static_cast<float>(rng.uniform(0.6, 1.0));
    cv::circle(layer, {static_cast<int>(x * 16), static_cast<int>(y * 16)}, std::max(1, static_cast<int>(r * 16)),
               cv::Scalar(b), cv::FILLED, cv::LINE_AA, 4);
  }
  for (int v = 0; v < img.rows; ++v) {
    auto* p = img.ptr<cv::Vec3f>(v);
    const float* l = layer.ptr<float>(v);
    for (int u = 0; u < img.cols; ++u) {
      const float a = std::min(l[u], 1.f);
      p[u] = p[u] * (1 - a) + white * a;
    }
  }
}

}  // namespace

Condition condition_from_name(std::string_view name) {
  if (name == "clear") return Condition::kClear;
  if (name == "fog") return Condition::kFog;
  if (name == "night") return Condition::kNight;
  if (name == "rain") return Condition::kRain;
  if (name == "snow") return Condition::kSnow;
  fail("condition '{}': expected fog, night, rain, snow or clear; fix the condition name", name);
}

cv::Mat3b apply_condition(const Frame& frame, Condition condition, double severity, Stream& rng) {
  cv::Mat3f img = frame.color.clone();
  const float s = static_cast<float>(severity);
  switch (condition) {
    case Condition::kClear: break;
    case Condition::kFog: {
      const float g = static_cast<float>(rng.uniform(0.9, 1.04));
      fog(img, frame.depth, 0.03f * s, cv::Vec3f(0.78f, 0.8f, 0.82f) * g);
      break;
    }
    case Condition::kNight: night(frame, img, severity, rng); break;
    case Condition::kRain: rain(frame, img, severity, rng); break;
    case Condition::kSnow: snow(frame, img, severity, rng); break;
  }
  cv::Mat3b out(img.rows, img.cols);
  for (int v = 0; v < img.rows; ++v) {
    const auto* p = img.ptr<cv::Vec3f>(v);
    auto* o = out.ptr<cv::Vec3b>(v);
    for (int u = 0; u < img.cols; ++u)
      for (int k = 0; k < 3; ++k)  // RGB → BGR
        o[u][2 - k] = static_cast<uint8_t>(std::clamp(p[u][k] * 255.f + 0.5f, 0.f, 255.f));
  }
  return out;
}

}  // namespace clcp::synth
