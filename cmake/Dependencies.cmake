# Finds every third-party library once and bundles them into the interface target `clcp_deps`.
# LibTorch: the CMake config shipped inside the PyPI torch wheel (build/venv, see ci/setup.sh).
set(CLCP_VENV "${PROJECT_SOURCE_DIR}/build/venv" CACHE PATH "virtual environment holding the pinned torch wheel")
if(NOT Torch_DIR)
  file(GLOB _torch_cfg "${CLCP_VENV}/lib/python3*/site-packages/torch/share/cmake/Torch")
  if(_torch_cfg)
    list(GET _torch_cfg 0 Torch_DIR)
  endif()
endif()
# The wheel is built with CUDA; its CMake config then finds the system CUDA toolkit so the GPU paths link.
# Name the GPU architectures (Ampere, Hopper) so torch's config does not probe for a GPU at configure time; nvcc 13
# with CMake 3.25 knows no CUDA20 dialect, so CUDA code compiles as C++17.
if(NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST})
  set(ENV{TORCH_CUDA_ARCH_LIST} "8.0;9.0")
endif()
set(CMAKE_CUDA_STANDARD 17)
find_package(Torch REQUIRED)
option(CLCP_REQUIRE_CUDA "Fail unless LibTorch was built with CUDA (the --device cuda path)" OFF)
if(CLCP_REQUIRE_CUDA AND NOT TARGET torch_cuda)
  message(FATAL_ERROR "CLCP_REQUIRE_CUDA: this LibTorch has no CUDA backend (torch_cuda); install the CUDA torch wheel")
endif()
find_package(OpenCV REQUIRED COMPONENTS core imgproc imgcodecs calib3d)
find_package(nlohmann_json 3.11 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(spdlog REQUIRED)
find_package(fmt REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBZIP REQUIRED IMPORTED_TARGET libzip)
# XXH3-128 content hashes of dataset files and result bundles (suite/core/content_hash.hpp).
pkg_check_modules(LIBXXHASH REQUIRED IMPORTED_TARGET libxxhash)
# PNG decoding with our own error handler, so libpng's messages never reach the user (suite/data/png_decode.hpp).
pkg_check_modules(LIBPNG REQUIRED IMPORTED_TARGET libpng)
find_library(MSTCH_LIBRARY mstch REQUIRED)
find_path(MSTCH_INCLUDE_DIR mstch/mstch.hpp REQUIRED)

add_library(clcp_deps INTERFACE)
target_link_libraries(clcp_deps INTERFACE
  ${TORCH_LIBRARIES} ${OpenCV_LIBS} nlohmann_json::nlohmann_json CLI11::CLI11 spdlog::spdlog fmt::fmt
  OpenSSL::Crypto Threads::Threads PkgConfig::LIBZIP PkgConfig::LIBXXHASH PkgConfig::LIBPNG ${MSTCH_LIBRARY})
# The torch wheel bundles its own fmt headers (v12) in torch/include; the Debian spdlog and fmt we link are fmt 9.
# A shim folder of links to the Debian headers goes first on the include path so every TU sees the fmt it links.
set(_shim "${PROJECT_BINARY_DIR}/include-shim")
file(MAKE_DIRECTORY ${_shim})
foreach(_h fmt spdlog)
  file(CREATE_LINK "/usr/include/${_h}" "${_shim}/${_h}" SYMBOLIC)
endforeach()
target_include_directories(clcp_deps SYSTEM BEFORE INTERFACE ${_shim})
target_include_directories(clcp_deps SYSTEM INTERFACE ${TORCH_INCLUDE_DIRS} ${OpenCV_INCLUDE_DIRS} ${MSTCH_INCLUDE_DIR})
# The torch wheel's ABI flags (-D_GLIBCXX_USE_CXX11_ABI=…) must reach every consumer.
separate_arguments(_torch_flags UNIX_COMMAND "${TORCH_CXX_FLAGS}")
target_compile_options(clcp_deps INTERFACE ${_torch_flags})
# Let the binaries find libtorch and the wheel's own CUDA libraries (nvidia/*/lib) at link and run time, ahead of
# the older copies the system CUDA toolkit ships (its libnccl lacks symbols libtorch_cuda needs).
get_filename_component(CLCP_TORCH_LIB_DIR "${TORCH_LIBRARY}" DIRECTORY)
file(GLOB CLCP_NVIDIA_LIB_DIRS LIST_DIRECTORIES true "${CLCP_TORCH_LIB_DIR}/../../nvidia/*/lib")
set(CMAKE_BUILD_RPATH ${CLCP_TORCH_LIB_DIR} ${CLCP_NVIDIA_LIB_DIRS})
foreach(_d ${CLCP_NVIDIA_LIB_DIRS})
  target_link_options(clcp_deps INTERFACE "LINKER:-rpath-link,${_d}")
endforeach()
