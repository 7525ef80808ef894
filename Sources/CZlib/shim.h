#pragma once
// zlib: inflate for PNG images given as phantoms (MagpieCore/PNG+Decode.swift).
#include <zlib.h>
