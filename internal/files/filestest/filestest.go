// Package filestest makes what the tests of photo uploads send: real PNG images and
// multipart/form-data bodies as a browser builds them.
package filestest

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/textproto"
	"testing"
)

// PNG returns a real PNG image of w×h pixels, a gradient seeded by seed, so that
// different seeds give different bytes.
func PNG(t testing.TB, w, h int, seed uint8) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x) + seed, uint8(y), seed, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Multipart returns a multipart/form-data body whose field "file" holds b, its part
// claiming the file name and contentType, and the body's Content-Type.
func Multipart(t testing.TB, b []byte, name, contentType string) (io.Reader, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="`+name+`"`)
	h.Set("Content-Type", contentType)
	p, err := mw.CreatePart(h)
	if err != nil {
		t.Fatal(err)
	}
	p.Write(b)
	mw.Close()
	return &buf, mw.FormDataContentType()
}
