package files

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config says where an S3 store is: KEFU_FILES=s3://BUCKET/PREFIX and its endpoint
// and credentials settings.
type S3Config struct {
	// Endpoint is the server's URL, http:// or https://, e.g. https://oss-cn-hangzhou.aliyuncs.com
	// or http://127.0.0.1:9000; a bare host:port means https.
	Endpoint string
	// Bucket holds the files under Prefix ("" or ending in "/").
	Bucket, Prefix string
	// AccessKey and SecretKey sign the requests; Region may be empty.
	AccessKey, SecretKey, Region string
	// PathStyle addresses the bucket in the path rather than the host name (MinIO and
	// most self-hosted servers want it).
	PathStyle bool
}

// ParseS3URL splits KEFU_FILES's s3://BUCKET/PREFIX into the bucket and the prefix
// ("" or ending in "/"); ok is false when u is not an s3:// URL.
func ParseS3URL(u string) (bucket, prefix string, ok bool, err error) {
	rest, ok := strings.CutPrefix(u, "s3://")
	if !ok {
		return "", "", false, nil
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", true, fmt.Errorf("%q names no bucket (s3://BUCKET/PREFIX)", u)
	}
	prefix = strings.Trim(prefix, "/")
	if prefix != "" {
		prefix += "/"
	}
	return bucket, prefix, true, nil
}

// S3 is a Store in a bucket of an S3-compatible object store, which every node shares:
// object PREFIX/CONV/ID, of the file's Content-Type.
type S3 struct {
	c              *minio.Client
	bucket, prefix string
}

var _ Store = (*S3)(nil)

// NewS3 returns a Store on the bucket, which is made when missing.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	endpoint, secure := cfg.Endpoint, true
	if u, err := url.Parse(cfg.Endpoint); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		endpoint, secure = u.Host, u.Scheme == "https"
	}
	if endpoint == "" || cfg.Bucket == "" {
		return nil, errors.New("s3 store: an endpoint and a bucket are required")
	}
	lookup := minio.BucketLookupAuto
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	c, err := minio.New(endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: secure, Region: cfg.Region, BucketLookup: lookup,
	})
	if err != nil {
		return nil, fmt.Errorf("s3 store: %w", err)
	}
	s := &S3{c: c, bucket: cfg.Bucket, prefix: cfg.Prefix}
	ok, err := c.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("s3 store: bucket %q: %w", cfg.Bucket, err)
	}
	if !ok {
		err := c.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region})
		if err != nil && minio.ToErrorResponse(err).Code != "BucketAlreadyOwnedByYou" {
			return nil, fmt.Errorf("s3 store: making bucket %q: %w", cfg.Bucket, err)
		}
	}
	return s, nil
}

func (s *S3) key(conv, id string) string { return s.prefix + conv + "/" + id }

// notFound reports whether err says the object is not there.
func notFound(err error) bool {
	r := minio.ToErrorResponse(err)
	return r.Code == minio.NoSuchKey || r.StatusCode == http.StatusNotFound
}

// Put uploads the file in one request (files are at most MaxSize).
func (s *S3) Put(ctx context.Context, conv, id, typ string, r io.Reader, size int64) error {
	if err := checkNames(conv, id); err != nil {
		return err
	}
	_, err := s.c.PutObject(ctx, s.bucket, s.key(conv, id), r, size, minio.PutObjectOptions{ContentType: typ})
	if err != nil {
		return fmt.Errorf("storing file: %w", err)
	}
	return nil
}

// Open stats the object, then reads it as the caller reads and seeks.
func (s *S3) Open(ctx context.Context, conv, id string) (io.ReadSeekCloser, Info, error) {
	info, err := s.Stat(ctx, conv, id)
	if err != nil {
		return nil, Info{}, err
	}
	o, err := s.c.GetObject(ctx, s.bucket, s.key(conv, id), minio.GetObjectOptions{})
	if err != nil {
		return nil, Info{}, fmt.Errorf("opening file: %w", err)
	}
	return o, info, nil
}

// Stat reads the object's size, type and time.
func (s *S3) Stat(ctx context.Context, conv, id string) (Info, error) {
	if err := checkNames(conv, id); err != nil {
		return Info{}, ErrNotFound
	}
	oi, err := s.c.StatObject(ctx, s.bucket, s.key(conv, id), minio.StatObjectOptions{})
	if notFound(err) {
		return Info{}, ErrNotFound
	}
	if err != nil {
		return Info{}, fmt.Errorf("reading file: %w", err)
	}
	return Info{Type: oi.ContentType, Size: oi.Size, Modified: oi.LastModified}, nil
}

// Delete removes the object.
func (s *S3) Delete(ctx context.Context, conv, id string) error {
	if err := checkNames(conv, id); err != nil {
		return err
	}
	if err := s.c.RemoveObject(ctx, s.bucket, s.key(conv, id), minio.RemoveObjectOptions{}); err != nil && !notFound(err) {
		return fmt.Errorf("deleting file: %w", err)
	}
	return nil
}

// DeleteConversation removes every object under the conversation's prefix.
func (s *S3) DeleteConversation(ctx context.Context, conv string) error {
	if err := checkNames(conv); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	objs := s.c.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix + conv + "/", Recursive: true})
	var listErr error
	toRemove := make(chan minio.ObjectInfo)
	go func() {
		defer close(toRemove)
		for o := range objs {
			if o.Err != nil {
				listErr = o.Err
				return
			}
			select {
			case toRemove <- o:
			case <-ctx.Done():
				return
			}
		}
	}()
	for e := range s.c.RemoveObjects(ctx, s.bucket, toRemove, minio.RemoveObjectsOptions{}) {
		if e.Err != nil && !notFound(e.Err) {
			cancel()
			for range toRemove {
			}
			return fmt.Errorf("deleting files of %q: %w", conv, e.Err)
		}
	}
	if listErr != nil {
		return fmt.Errorf("listing files of %q: %w", conv, listErr)
	}
	return nil
}

// URLKey reads the key from object PREFIX.kefu-url-key, or makes it with a conditional
// write (If-None-Match: *), so that of two nodes racing to make it one wins and both use
// the winner's.
func (s *S3) URLKey(ctx context.Context) ([]byte, error) {
	name := s.prefix + ".kefu-url-key"
	for range 2 {
		o, err := s.c.GetObject(ctx, s.bucket, name, minio.GetObjectOptions{})
		if err == nil {
			key, rerr := io.ReadAll(io.LimitReader(o, urlKeySize+1))
			o.Close()
			switch {
			case rerr == nil && len(key) == urlKeySize:
				return key, nil
			case rerr == nil:
				return nil, fmt.Errorf("the URL key %s is not %d bytes", name, urlKeySize)
			case !notFound(rerr):
				return nil, fmt.Errorf("reading the URL key: %w", rerr)
			}
		} else if !notFound(err) {
			return nil, fmt.Errorf("reading the URL key: %w", err)
		}
		key := make([]byte, urlKeySize)
		rand.Read(key)
		opts := minio.PutObjectOptions{ContentType: "application/octet-stream"}
		opts.SetMatchETagExcept("*")
		_, err = s.c.PutObject(ctx, s.bucket, name, bytes.NewReader(key), urlKeySize, opts)
		if err == nil {
			return key, nil
		}
		if r := minio.ToErrorResponse(err); r.Code != minio.PreconditionFailed && r.StatusCode != http.StatusPreconditionFailed {
			return nil, fmt.Errorf("making the URL key: %w", err)
		}
		// Another node made it first: read theirs.
	}
	return nil, errors.New("making the URL key: it keeps changing")
}
