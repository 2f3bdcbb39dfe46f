//go:build !linux

package nemesis

import "syscall"

// childAttr: only Linux can tie a child's life to its parent.
func childAttr() *syscall.SysProcAttr { return nil }
