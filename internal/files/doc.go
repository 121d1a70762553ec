// Package files keeps the photos that shoppers and agents send in chats: a Store of the
// bytes, by conversation and file id, on the data directory of one node (Dir) or on any
// S3-compatible object store that several nodes share (S3); and a Service that receives
// uploads (one JPEG, PNG, WebP or GIF image, its type sniffed from its bytes, at most
// MaxSize), makes the signed, expiring URLs that the transcript carries, and serves the
// files behind them.
//
// A file lives and dies with its conversation: it is stored under the conversation's
// id, and Store.DeleteConversation removes them all (docs/api.md "Photos and files").
package files
