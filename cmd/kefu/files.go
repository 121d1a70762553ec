package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/kefu-im/kefu/internal/files"
	"github.com/kefu-im/kefu/internal/metrics"
	"github.com/rs/zerolog"
)

// openFiles opens the store of the photos of chats that the configuration names
// (KEFU_FILES) and the service on it, whose URLs are signed with the store's own key,
// so that every node sharing the store signs alike.
func openFiles(c config, log zerolog.Logger, m *metrics.Metrics) (*files.Service, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var store files.Store
	bucket, prefix, isS3, err := files.ParseS3URL(c.Files)
	switch {
	case err != nil:
		return nil, fmt.Errorf("KEFU_FILES: %w", err)
	case isS3:
		store, err = files.NewS3(ctx, files.S3Config{
			Endpoint: c.S3Endpoint, Bucket: bucket, Prefix: prefix, Region: c.S3Region,
			AccessKey: c.S3AccessKey, SecretKey: c.S3SecretKey,
		})
	default:
		dir := c.Files
		if dir == "" {
			dir = filepath.Join(c.DataDir, "files")
		}
		if c.RedisURL != "" {
			log.Warn().Str("files", dir).Msg("photos of chats are kept on this node's disk; with several nodes set KEFU_FILES=s3://BUCKET/PREFIX")
		}
		store, err = files.NewDir(dir)
	}
	if err != nil {
		return nil, err
	}
	key, err := store.URLKey(ctx)
	if err != nil {
		return nil, fmt.Errorf("the photos' URL key: %w", err)
	}
	return files.New(files.Config{Store: store, URLKey: key, Metrics: m})
}
