package jsonl

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// AppendLocked appends data to f, opened with O_APPEND, under an exclusive
// flock, preceded by a newline when the file ends in a torn line (a crashed
// writer's), with one write, then syncs with sync. Two processes appending
// this way never interleave or tear each other's lines, and nothing already
// in the file is rewritten. Empty data only terminates a torn line. what
// names the log in errors ("history log").
func AppendLocked(f *os.File, data []byte, sync func(*os.File) error, what string) (err error) {
	if err := flock(f, syscall.LOCK_EX); err != nil {
		return fmt.Errorf("locking %s %s: %w", what, f.Name(), err)
	}
	defer func() {
		if uerr := flock(f, syscall.LOCK_UN); uerr != nil {
			err = errors.Join(err, fmt.Errorf("unlocking %s %s: %w", what, f.Name(), uerr))
		}
	}()
	torn, err := endsTorn(f, what)
	if err != nil {
		return err
	}
	if torn {
		data = append([]byte{'\n'}, data...)
	}
	if len(data) == 0 {
		return nil
	}
	// os.File.Write repeats short writes until all of data is written or it fails.
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("appending to %s %s: %w", what, f.Name(), err)
	}
	if err := sync(f); err != nil {
		return fmt.Errorf("syncing %s %s: %w", what, f.Name(), err)
	}
	return nil
}

// endsTorn reports whether the file is not empty and does not end in a newline.
func endsTorn(f *os.File, what string) (bool, error) {
	st, err := f.Stat()
	if err != nil {
		return false, fmt.Errorf("checking %s %s: %w", what, f.Name(), err)
	}
	if st.Size() == 0 {
		return false, nil
	}
	var last [1]byte
	if _, err := f.ReadAt(last[:], st.Size()-1); err != nil {
		return false, fmt.Errorf("reading end of %s %s: %w", what, f.Name(), err)
	}
	return last[0] != '\n', nil
}

func flock(f *os.File, how int) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) {
		for {
			if ferr = syscall.Flock(int(fd), how); !errors.Is(ferr, syscall.EINTR) {
				return
			}
		}
	}); err != nil {
		return err
	}
	return ferr
}
