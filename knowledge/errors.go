package knowledge

import "errors"

// ErrUnsafeContent wraps every CheckContent failure: an article field holds HTML or a
// link that could run script in a shopper's or an editor's browser.
var ErrUnsafeContent = errors.New("unsafe content")

// ErrBadImport wraps the errors that stop an import as a whole: a file in an unknown
// format, a malformed zip, or a zip over the size and file-count limits. Problems with
// single articles are ImportProblems instead.
var ErrBadImport = errors.New("import file not readable")
