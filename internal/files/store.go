package files

import (
	"context"
	"errors"
	"io"
	"regexp"
	"time"
)

// Store keeps the bytes of files, by conversation and file id. Every implementation
// passes the same contract test (store_test.go).
type Store interface {
	// Put stores size bytes read from r as file id of conversation conv, of the MIME
	// type typ. A file is there whole or not at all.
	Put(ctx context.Context, conv, id, typ string, r io.Reader, size int64) error
	// Open opens a stored file; ErrNotFound when conv has no file id.
	Open(ctx context.Context, conv, id string) (io.ReadSeekCloser, Info, error)
	// Stat tells of a stored file without opening it; ErrNotFound as Open.
	Stat(ctx context.Context, conv, id string) (Info, error)
	// Delete removes one file; removing a file that is not there is no error.
	Delete(ctx context.Context, conv, id string) error
	// DeleteConversation removes every file of conv.
	DeleteConversation(ctx context.Context, conv string) error
	// URLKey returns the key that signs the URLs of the store's files, creating it on
	// first use: every node sharing the store signs and checks with the same key.
	URLKey(ctx context.Context) ([]byte, error)
}

// Info is what a Store tells of a stored file.
type Info struct {
	// Type is the file's MIME type, one of Types.
	Type string
	Size int64
	// Modified is when it was stored.
	Modified time.Time
}

// ErrNotFound says that a conversation has no such file.
var ErrNotFound = errors.New("file not found")

// errBadName refuses a conversation or file id that could not be a path segment.
var errBadName = errors.New("bad conversation or file id")

// namePattern is what conversation and file ids look like: they become path segments
// and object keys, so nothing else is accepted.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// checkNames refuses ids that are not names.
func checkNames(names ...string) error {
	for _, n := range names {
		if !namePattern.MatchString(n) {
			return errBadName
		}
	}
	return nil
}

// urlKeySize is the size of a URL signing key, in bytes.
const urlKeySize = 32
