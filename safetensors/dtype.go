package safetensors

import "strings"

// DType is a safetensors element type, spelled as in the header.
type DType string

// The supported element types.
const (
	F32  DType = "F32"
	F64  DType = "F64"
	F16  DType = "F16"
	BF16 DType = "BF16"
	I64  DType = "I64"
	I32  DType = "I32"
	U8   DType = "U8"
	BOOL DType = "BOOL"
)

// dtypeSizes maps each supported type to its size in bytes.
var dtypeSizes = map[DType]int{F64: 8, I64: 8, F32: 4, I32: 4, F16: 2, BF16: 2, U8: 1, BOOL: 1}

// Size returns the element size in bytes, 0 for an unsupported type.
func (d DType) Size() int { return dtypeSizes[d] }

// Valid reports whether d is a supported type.
func (d DType) Valid() bool { return d.Size() > 0 }

// supportedDTypes lists the supported types for error messages.
func supportedDTypes() string {
	return strings.Join([]string{string(F32), string(F64), string(F16), string(BF16), string(I64), string(I32), string(U8), string(BOOL)}, ", ")
}
