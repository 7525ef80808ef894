// HDF5 exposes its type ids, property-list classes and file flags as macros that expand to
// global-variable reads after H5open(); Swift cannot import those, so they are wrapped here.
#pragma once
#include <hdf5.h>

static inline hid_t mp_H5P_DEFAULT(void) { return H5P_DEFAULT; }
static inline hid_t mp_H5S_ALL(void) { return H5S_ALL; }
static inline hid_t mp_H5E_DEFAULT(void) { return H5E_DEFAULT; }
static inline hsize_t mp_H5S_UNLIMITED(void) { return H5S_UNLIMITED; }
static inline size_t mp_H5T_VARIABLE(void) { return H5T_VARIABLE; }

static inline unsigned mp_H5F_ACC_RDONLY(void) { return H5F_ACC_RDONLY; }
static inline unsigned mp_H5F_ACC_RDWR(void) { return H5F_ACC_RDWR; }
static inline unsigned mp_H5F_ACC_TRUNC(void) { return H5F_ACC_TRUNC; }
static inline unsigned mp_H5F_ACC_EXCL(void) { return H5F_ACC_EXCL; }

static inline hid_t mp_H5P_DATASET_CREATE(void) { return H5P_DATASET_CREATE; }
static inline hid_t mp_H5P_LINK_CREATE(void) { return H5P_LINK_CREATE; }

static inline hid_t mp_H5T_NATIVE_INT8(void) { return H5T_NATIVE_INT8; }
static inline hid_t mp_H5T_NATIVE_INT16(void) { return H5T_NATIVE_INT16; }
static inline hid_t mp_H5T_NATIVE_INT32(void) { return H5T_NATIVE_INT32; }
static inline hid_t mp_H5T_NATIVE_INT64(void) { return H5T_NATIVE_INT64; }
static inline hid_t mp_H5T_NATIVE_FLOAT(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t mp_H5T_NATIVE_DOUBLE(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t mp_H5T_STD_I8LE(void) { return H5T_STD_I8LE; }
static inline hid_t mp_H5T_STD_I16LE(void) { return H5T_STD_I16LE; }
static inline hid_t mp_H5T_STD_I32LE(void) { return H5T_STD_I32LE; }
static inline hid_t mp_H5T_STD_I64LE(void) { return H5T_STD_I64LE; }
static inline hid_t mp_H5T_IEEE_F32LE(void) { return H5T_IEEE_F32LE; }
static inline hid_t mp_H5T_IEEE_F64LE(void) { return H5T_IEEE_F64LE; }
static inline hid_t mp_H5T_C_S1(void) { return H5T_C_S1; }
