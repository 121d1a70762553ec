package kb

import "errors"

// ErrNotFound is returned for an article id the index does not hold.
var ErrNotFound = errors.New("article not found")

// ErrInvalid wraps every validation failure of an article.
var ErrInvalid = errors.New("invalid article")

// ErrExists is returned when creating an article whose id is in use.
var ErrExists = errors.New("article id already in use")

// ErrConflict is returned when a save names a version that is no longer the latest: an
// editor saved in between.
var ErrConflict = errors.New("article changed since the version edited")

// ErrFeedGap is returned by Store.Changes for a cursor older than the feed keeps.
var ErrFeedGap = errors.New("change feed no longer holds the cursor")

// ErrUnavailable wraps errors of a store that cannot be reached.
var ErrUnavailable = errors.New("article store unavailable")
