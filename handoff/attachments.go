package handoff

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/files"
)

// Photos in chats (docs/domain.md rule 8): a shopper's or an agent's message may carry
// photos uploaded to its conversation beforehand (package internal/files); the message
// keeps what they are, the files keep their bytes.

// Attachment is a photo a message carries.
type Attachment struct {
	// ID is the file's id in its conversation (files.Uploaded.ID).
	ID string `json:"id"`
	// URL shows the photo. It is signed and expires, so it is made whenever a record is
	// delivered (WithURLs) and never stored.
	URL  string `json:"url,omitempty"`
	Type string `json:"type"`
	Size int64  `json:"size"`
}

// MaySee reports whether u may see and send the photos of c: as for its notes, whoever
// may read it by its record (MayRead).
func MaySee(u account.User, c Conversation) bool { return mayNote(u, c) }

// MaxAttachments bounds the photos of one message.
const MaxAttachments = 9

// Files tells the desk what was uploaded to a conversation; files.Service is the one
// Kefu runs with.
type Files interface {
	// Stat returns files.ErrNotFound when conv has no file id.
	Stat(ctx context.Context, conv, id string) (files.Info, error)
}

// ErrBadAttachment wraps every reason a message's attachments are refused: too many,
// named twice, or not uploaded to the message's conversation.
var ErrBadAttachment = errors.New("attachment not uploaded to this conversation")

// attachments returns what ids name among the files of conversation conv.
func (d *Desk) attachments(ctx context.Context, conv string, ids []string) ([]Attachment, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	if len(ids) > MaxAttachments {
		return nil, fmt.Errorf("%w: %d attachments, at most %d", ErrBadAttachment, len(ids), MaxAttachments)
	}
	if d.files == nil {
		return nil, fmt.Errorf("%w: no file store", ErrBadAttachment)
	}
	out := make([]Attachment, 0, len(ids))
	for i, id := range ids {
		if slices.Contains(ids[:i], id) {
			return nil, fmt.Errorf("%w: %q named twice", ErrBadAttachment, id)
		}
		info, err := d.files.Stat(ctx, conv, id)
		if errors.Is(err, files.ErrNotFound) {
			return nil, fmt.Errorf("%w: %q", ErrBadAttachment, id)
		}
		if err != nil {
			return nil, fmt.Errorf("reading attachment %q of %q: %w", id, conv, err)
		}
		out = append(out, Attachment{ID: id, Type: info.Type, Size: info.Size})
	}
	return out, nil
}

// WithURLs returns msgs of conversation conv with the URL of every attachment made by
// url, as they are delivered; msgs themselves are not changed.
func WithURLs(msgs []Message, conv string, url func(conv, id string) string) []Message {
	out := msgs
	for i, m := range msgs {
		if len(m.Attachments) == 0 {
			continue
		}
		if &out[0] == &msgs[0] {
			out = slices.Clone(msgs)
		}
		atts := slices.Clone(m.Attachments)
		for j := range atts {
			atts[j].URL = url(conv, atts[j].ID)
		}
		out[i].Attachments = atts
	}
	return out
}

// Photos returns the attachments of the messages of conversation conv, oldest first,
// with their URLs made by url: the evidence an after-sales ticket links.
func (d *Desk) Photos(ctx context.Context, conv string, url func(conv, id string) string) ([]Attachment, error) {
	msgs, err := d.convs.Messages(ctx, conv, 0, 0)
	if err != nil {
		return nil, err
	}
	out := []Attachment{}
	for _, m := range WithURLs(msgs, conv, url) {
		out = append(out, m.Attachments...)
	}
	return out, nil
}
