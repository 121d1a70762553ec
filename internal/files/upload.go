package files

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
)

// multipartSlack is what a multipart body may carry besides its file: boundaries,
// part headers and small fields.
const multipartSlack = 64 << 10

// readUpload reads the request's file into a temporary file, never more than MaxSize
// of it into memory or to disk: from the multipart/form-data field "file", or else the
// whole body is the file. Its type is sniffed from its first bytes before the rest is
// read. The returned file is read from its start, and removed when closed.
func readUpload(w http.ResponseWriter, r *http.Request, tmpDir string) (*tempFile, string, int64, error) {
	if r.ContentLength > MaxSize+multipartSlack {
		return nil, "", 0, ErrTooLarge
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxSize+multipartSlack)
	src := io.Reader(r.Body)
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		mr, err := r.MultipartReader()
		if err != nil {
			return nil, "", 0, ErrNoFile
		}
		for {
			p, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				return nil, "", 0, ErrNoFile
			}
			if err != nil {
				return nil, "", 0, bodyError(err, ErrNoFile)
			}
			if p.FormName() == "file" {
				src = p
				break
			}
		}
	} else if r.ContentLength > MaxSize {
		return nil, "", 0, ErrTooLarge
	}
	head := make([]byte, sniffLen)
	n, err := io.ReadFull(src, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, "", 0, bodyError(err, err)
	}
	if n == 0 {
		return nil, "", 0, ErrNoFile
	}
	typ := Sniff(head[:n])
	if typ == "" {
		return nil, "", 0, ErrUnsupportedType
	}
	f, err := os.CreateTemp(tmpDir, "kefu-upload-*")
	if err != nil {
		return nil, "", 0, fmt.Errorf("receiving an upload: %w", err)
	}
	t := &tempFile{f}
	if _, err := f.Write(head[:n]); err != nil {
		t.Close()
		return nil, "", 0, fmt.Errorf("receiving an upload: %w", err)
	}
	rest, err := io.Copy(f, io.LimitReader(src, MaxSize+1-int64(n)))
	size := int64(n) + rest
	switch {
	case err != nil:
		t.Close()
		return nil, "", 0, bodyError(err, err)
	case size > MaxSize:
		t.Close()
		return nil, "", 0, ErrTooLarge
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Close()
		return nil, "", 0, fmt.Errorf("receiving an upload: %w", err)
	}
	return t, typ, size, nil
}

// bodyError is ErrTooLarge when reading the body failed at its size limit, else other.
func bodyError(err, other error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return ErrTooLarge
	}
	return other
}

// tempFile is a temporary file that is removed when closed.
type tempFile struct{ *os.File }

func (t *tempFile) Close() error {
	err := t.File.Close()
	os.Remove(t.Name())
	return err
}
