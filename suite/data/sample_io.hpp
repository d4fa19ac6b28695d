// Decoding one record into pixels, with the checks that turn bad files into one-line errors (DESIGN.md "Errors a user
// can act on"). Image as mmcv LoadImageFromFile (cv2 colour decode, BGR uint8); label as mmseg LoadAnnotations
// (unchanged decode, uint8 H×W), labelIds mapped to trainIds with the cityscapesScripts table (labels.hpp).
#pragma once
#include "suite/data/dataset.hpp"

namespace clcp {

/// Decodes record.image (cv::IMREAD_COLOR → BGR uint8 H×W×3) and record.label (cv::IMREAD_UNCHANGED, must be 8-bit
/// single channel → uint8 H×W). For LabelEncoding::kLabelIds the label is mapped through label_id_lut().
/// Result: label values in 0..18 or 255, same H×W as the image. Throws UserError (one line) when:
///  - a file is missing or does not decode ("<file>: PNG does not decode; re-download or regenerate it");
///  - the label is not 8-bit single channel;
///  - the label size differs from the image size (both sizes given as W×H);
///  - a trainIds label holds a value outside 0–18/255, or a labelIds label holds an unknown labelId (names the first
///    bad value in raster order, its pixel and the file).
/// Thread-safe (no shared state).
LoadedSample load_sample(const ImageRecord& record);

}  // namespace clcp
