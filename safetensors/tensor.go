package safetensors

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
)

// Tensor is one stored tensor: its element type, its shape (empty for a
// 0-d scalar) and its raw little-endian row-major bytes.
type Tensor struct {
	DType DType
	Shape []int
	Data  []byte
}

// Elements returns the number of elements the shape holds (1 for a scalar).
// It does not check the shape; Check does.
func (t Tensor) Elements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Check reports whether the tensor is well formed: a supported dtype, no
// negative dimension and exactly Elements()*DType.Size() bytes of data.
func (t Tensor) Check() error {
	if !t.DType.Valid() {
		return fmt.Errorf("unsupported dtype %q (supported: %s)", t.DType, supportedDTypes())
	}
	n, err := byteSize(t.DType, t.Shape)
	if err != nil {
		return err
	}
	if uint64(len(t.Data)) != n {
		return fmt.Errorf("%s shape %v needs %d bytes, data has %d", t.DType, t.Shape, n, len(t.Data))
	}
	return nil
}

// byteSize returns the bytes a tensor of this dtype and shape occupies,
// failing on negative dimensions and on sizes beyond 2^63.
func byteSize(dtype DType, shape []int) (uint64, error) {
	n := uint64(dtype.Size())
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("shape %v has a negative dimension", shape)
		}
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > math.MaxInt64 {
			return 0, fmt.Errorf("shape %v of %s is too large", shape, dtype)
		}
		n = lo
	}
	return n, nil
}

// Float32Tensor returns an F32 tensor holding values with the given shape.
func Float32Tensor(shape []int, values []float32) (Tensor, error) {
	t := Tensor{DType: F32, Shape: append([]int{}, shape...), Data: make([]byte, 4*len(values))}
	for i, v := range values {
		binary.LittleEndian.PutUint32(t.Data[4*i:], math.Float32bits(v))
	}
	if err := t.Check(); err != nil {
		return Tensor{}, fmt.Errorf("safetensors: %d float32 values for shape %v: %w", len(values), shape, err)
	}
	return t, nil
}

// Int64Tensor returns an I64 tensor holding values with the given shape.
func Int64Tensor(shape []int, values []int64) (Tensor, error) {
	t := Tensor{DType: I64, Shape: append([]int{}, shape...), Data: make([]byte, 8*len(values))}
	for i, v := range values {
		binary.LittleEndian.PutUint64(t.Data[8*i:], uint64(v))
	}
	if err := t.Check(); err != nil {
		return Tensor{}, fmt.Errorf("safetensors: %d int64 values for shape %v: %w", len(values), shape, err)
	}
	return t, nil
}

// Float32s returns the elements as float32, converting from F16, BF16 and
// F64 (rounding to nearest). Integer and boolean tensors are an error.
func (t Tensor) Float32s() ([]float32, error) {
	if err := t.Check(); err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	n := t.Elements()
	out := make([]float32, n)
	le := binary.LittleEndian
	switch t.DType {
	case F32:
		for i := range out {
			out[i] = math.Float32frombits(le.Uint32(t.Data[4*i:]))
		}
	case F64:
		for i := range out {
			out[i] = float32(math.Float64frombits(le.Uint64(t.Data[8*i:])))
		}
	case F16:
		for i := range out {
			out[i] = halfToFloat32(le.Uint16(t.Data[2*i:]))
		}
	case BF16:
		for i := range out {
			out[i] = math.Float32frombits(uint32(le.Uint16(t.Data[2*i:])) << 16)
		}
	default:
		return nil, fmt.Errorf("safetensors: tensor is %s; Float32s reads F32, F64, F16 or BF16 (use Int64s)", t.DType)
	}
	return out, nil
}

// Int64s returns the elements as int64, converting from I32, U8 and BOOL
// (0 or 1). Floating-point tensors are an error.
func (t Tensor) Int64s() ([]int64, error) {
	if err := t.Check(); err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	out := make([]int64, t.Elements())
	le := binary.LittleEndian
	switch t.DType {
	case I64:
		for i := range out {
			out[i] = int64(le.Uint64(t.Data[8*i:]))
		}
	case I32:
		for i := range out {
			out[i] = int64(int32(le.Uint32(t.Data[4*i:])))
		}
	case U8:
		for i := range out {
			out[i] = int64(t.Data[i])
		}
	case BOOL:
		for i := range out {
			if t.Data[i] != 0 {
				out[i] = 1
			}
		}
	default:
		return nil, fmt.Errorf("safetensors: tensor is %s; Int64s reads I64, I32, U8 or BOOL (use Float32s)", t.DType)
	}
	return out, nil
}

// halfToFloat32 converts an IEEE 754 binary16 value exactly.
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // inf or NaN
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	case exp != 0: // normal
		return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
	}
	// zero or subnormal: mant * 2^-24
	v := float32(mant) / (1 << 24)
	if sign != 0 {
		v = -v
	}
	return v
}
