// Adverse conditions as re-shadings of a clear-weather Frame (render.hpp). Labels are never touched.
//   fog:   Koschmieder's law I = J·t + A·(1 − t), t = exp(−β·depth), β = 0.03·severity m⁻¹ (visibility ≈ 3/β),
//          airlight A a bright grey.
//   night: ambient light ≈ 0.1·exp(−0.7·severity); street lamps, vehicle lights, the ego headlights and lit windows
//          as light sources; bloom around emitters; Gaussian sensor noise σ = 0.02 + 0.015·severity.
//   rain:  wet darkening, an overcast sky, mirror reflections on the road, light haze and motion-blurred streaks.
//   snow:  whitening of horizontal surfaces and foliage, an overcast sky, haze and falling particles.
// `rng` supplies the particle and noise draws (a Stream keyed by the condition and the scene).
#pragma once
#include <opencv2/core.hpp>
#include <string_view>

#include "suite/core/rng.hpp"
#include "suite/data/synth/render.hpp"

namespace clcp::synth {

enum class Condition { kClear, kFog, kNight, kRain, kSnow };

/// "fog" | "night" | "rain" | "snow" | "clear" → Condition; throws UserError otherwise.
Condition condition_from_name(std::string_view name);

/// Returns the image under `condition` as 8-bit BGR (cv::imwrite order), H×W like the frame.
cv::Mat3b apply_condition(const Frame& frame, Condition condition, double severity, Stream& rng);

}  // namespace clcp::synth
