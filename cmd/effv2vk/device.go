package main

import (
	"errors"
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
)

// withDevice opens the device selector names (the --device flag), runs fn
// on it and closes it.
// With EFFV2VK_VALIDATE=1 any validation message the device collected
// fails the command (validationError), after fn's own error if it had one:
// every command that touches a device is held to the same rule.
func withDevice(selector string, fn func(d *engine.Device) error) (err error) {
	d, err := engine.Open(engine.Options{Select: selector})
	if err != nil {
		return err
	}
	defer func() {
		closeErr := d.Close()
		err = errors.Join(err, closeErr, validationError(d.ValidationMessages()))
	}()
	return fn(d)
}

// validationError turns validation messages into the command's error: any
// message is a bug in effv2vk. Nil when there are none.
func validationError(msgs []string) error {
	if len(msgs) == 0 {
		return nil
	}
	return fmt.Errorf("the Vulkan validation layer reported %d message(s), a bug in effv2vk; the first: %s", len(msgs), msgs[0])
}
