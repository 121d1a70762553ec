package files

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Dir is a Store in a directory of one node: each conversation's files in a
// subdirectory named by its id, each file named by its own id. The type is sniffed from
// the file's first bytes again when it is read, so nothing is kept beside the bytes.
type Dir struct {
	root string
}

var _ Store = (*Dir)(nil)

// NewDir returns a Store in directory root, creating it readable by its owner alone.
func NewDir(root string) (*Dir, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("files directory: %w", err)
	}
	return &Dir{root: root}, nil
}

func (d *Dir) path(conv, id string) string { return filepath.Join(d.root, conv, id) }

// Put writes the file to a temporary name beside its place, syncs it and renames it
// into place, so that a crash leaves the whole file or none.
func (d *Dir) Put(ctx context.Context, conv, id, typ string, r io.Reader, size int64) error {
	if err := checkNames(conv, id); err != nil {
		return err
	}
	dir := filepath.Join(d.root, conv)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("storing file: %w", err)
	}
	f, err := os.CreateTemp(dir, "."+id+".*.tmp")
	if err != nil {
		return fmt.Errorf("storing file: %w", err)
	}
	done := false
	defer func() {
		if !done {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	n, err := io.Copy(f, io.LimitReader(r, size+1))
	if err != nil {
		return fmt.Errorf("storing file: %w", err)
	}
	if n != size {
		return fmt.Errorf("storing file: read %d bytes, want %d", n, size)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("storing file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("storing file: %w", err)
	}
	if err := os.Rename(f.Name(), d.path(conv, id)); err != nil {
		return fmt.Errorf("storing file: %w", err)
	}
	done = true
	return nil
}

// Open opens the file and sniffs its type.
func (d *Dir) Open(ctx context.Context, conv, id string) (io.ReadSeekCloser, Info, error) {
	if err := checkNames(conv, id); err != nil {
		return nil, Info{}, ErrNotFound
	}
	f, err := os.Open(d.path(conv, id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, Info{}, ErrNotFound
	}
	if err != nil {
		return nil, Info{}, fmt.Errorf("opening file: %w", err)
	}
	info, err := statOpen(f)
	if err != nil {
		f.Close()
		return nil, Info{}, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, Info{}, fmt.Errorf("opening file: %w", err)
	}
	return f, info, nil
}

// Stat opens the file to sniff its type.
func (d *Dir) Stat(ctx context.Context, conv, id string) (Info, error) {
	f, info, err := d.Open(ctx, conv, id)
	if err != nil {
		return Info{}, err
	}
	f.Close()
	return info, nil
}

// statOpen tells of an open file: its size and time, and its type from its first bytes.
func statOpen(f *os.File) (Info, error) {
	st, err := f.Stat()
	if err != nil {
		return Info{}, fmt.Errorf("reading file: %w", err)
	}
	head := make([]byte, sniffLen)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return Info{}, fmt.Errorf("reading file: %w", err)
	}
	return Info{Type: Sniff(head[:n]), Size: st.Size(), Modified: st.ModTime()}, nil
}

// Delete removes the file.
func (d *Dir) Delete(ctx context.Context, conv, id string) error {
	if err := checkNames(conv, id); err != nil {
		return err
	}
	if err := os.Remove(d.path(conv, id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("deleting file: %w", err)
	}
	return nil
}

// DeleteConversation removes the conversation's directory.
func (d *Dir) DeleteConversation(ctx context.Context, conv string) error {
	if err := checkNames(conv); err != nil {
		return err
	}
	if err := os.RemoveAll(filepath.Join(d.root, conv)); err != nil {
		return fmt.Errorf("deleting files of %q: %w", conv, err)
	}
	return nil
}

// URLKey reads the key from .url-key in the directory, or makes it: written to a
// temporary file and linked into place, so that of two processes racing to make it one
// wins and both read the winner's.
func (d *Dir) URLKey(ctx context.Context) ([]byte, error) {
	name := filepath.Join(d.root, ".url-key")
	for range 2 {
		key, err := os.ReadFile(name)
		if err == nil && len(key) == urlKeySize {
			return key, nil
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("reading the URL key: %w", err)
		}
		if err == nil {
			return nil, fmt.Errorf("the URL key %s is not %d bytes", name, urlKeySize)
		}
		key = make([]byte, urlKeySize)
		rand.Read(key)
		tmp, err := os.CreateTemp(d.root, ".url-key.*.tmp")
		if err != nil {
			return nil, fmt.Errorf("making the URL key: %w", err)
		}
		_, werr := tmp.Write(key)
		if serr := tmp.Sync(); werr == nil {
			werr = serr
		}
		if cerr := tmp.Close(); werr == nil {
			werr = cerr
		}
		if werr == nil {
			werr = os.Link(tmp.Name(), name)
		}
		os.Remove(tmp.Name())
		if werr == nil {
			return key, nil
		}
		if !errors.Is(werr, fs.ErrExist) {
			return nil, fmt.Errorf("making the URL key: %w", werr)
		}
		// Another process made it first: read theirs.
	}
	return nil, errors.New("making the URL key: it keeps changing")
}
