package main

import (
	"strconv"

	"github.com/effv2vk/effv2vk/safetensors"
	"github.com/effv2vk/effv2vk/train"
)

// safetensorsWrite writes exported weights with the checkpoint's origin in
// the metadata.
func safetensorsWrite(path string, tensors map[string]safetensors.Tensor, ck *train.Checkpoint) error {
	return safetensors.WriteFile(path, tensors, map[string]string{
		"model": ck.Model.Name, "source": ck.Path, "step": strconv.Itoa(ck.Step),
	})
}
