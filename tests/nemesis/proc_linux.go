package nemesis

import "syscall"

// childAttr makes a node die with the harness (SIGKILL when the parent
// goes), so a killed `ordo verify` leaves no processes behind.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
