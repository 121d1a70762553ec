package files_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/kefu-im/kefu/internal/files"
	"github.com/kefu-im/kefu/internal/files/filestest"
	"github.com/kefu-im/kefu/internal/miniotest"
)

// photo returns a real PNG of w×h pixels.
var photo = filestest.PNG

func TestDir(t *testing.T) {
	root := t.TempDir()
	s, err := files.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	testStore(t, s, func() files.Store {
		again, err := files.NewDir(root)
		if err != nil {
			t.Fatal(err)
		}
		return again
	})
}

func TestS3(t *testing.T) {
	srv := miniotest.Start(t)
	open := func() files.Store {
		s, err := files.NewS3(context.Background(), files.S3Config{
			Endpoint: srv.Endpoint, Bucket: "kefu-files", Prefix: "shop-a/",
			AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, PathStyle: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	testStore(t, open(), open)
}

// testStore is the contract every Store passes; again opens a second Store on the same
// place, as another node would.
func testStore(t *testing.T, s files.Store, again func() files.Store) {
	ctx := context.Background()
	const conv, other = "c_returnDamaged01", "c_otherShopper02"
	pic := photo(t, 64, 48, 7)
	put := func(conv, id string, b []byte) {
		t.Helper()
		if err := s.Put(ctx, conv, id, "image/png", bytes.NewReader(b), int64(len(b))); err != nil {
			t.Fatalf("Put %s/%s: %v", conv, id, err)
		}
	}
	put(conv, "f_defect", pic)
	put(conv, "f_waybill", photo(t, 32, 32, 90))
	put(other, "f_theirs", photo(t, 16, 16, 3))

	t.Run("read back", func(t *testing.T) {
		info, err := s.Stat(ctx, conv, "f_defect")
		if err != nil || info.Type != "image/png" || info.Size != int64(len(pic)) || info.Modified.IsZero() {
			t.Fatalf("Stat = %+v, %v; want image/png of %d bytes with a time", info, err, len(pic))
		}
		f, info, err := s.Open(ctx, conv, "f_defect")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		got, err := io.ReadAll(f)
		if err != nil || sha256.Sum256(got) != sha256.Sum256(pic) || info.Size != int64(len(pic)) {
			t.Fatalf("read %d bytes (err %v), want the %d stored", len(got), err, len(pic))
		}
		if _, err := f.Seek(8, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		tail, _ := io.ReadAll(f)
		if !bytes.Equal(tail, pic[8:]) {
			t.Error("after Seek(8) the rest differs")
		}
	})
	t.Run("another conversation's id is not found", func(t *testing.T) {
		for _, c := range [][2]string{{other, "f_defect"}, {conv, "f_theirs"}, {conv, "f_missing"}, {"../" + conv, "f_defect"}, {conv, "../f_defect"}} {
			if _, err := s.Stat(ctx, c[0], c[1]); !errors.Is(err, files.ErrNotFound) {
				t.Errorf("Stat(%q, %q) = %v, want ErrNotFound", c[0], c[1], err)
			}
			if _, _, err := s.Open(ctx, c[0], c[1]); !errors.Is(err, files.ErrNotFound) {
				t.Errorf("Open(%q, %q) = %v, want ErrNotFound", c[0], c[1], err)
			}
		}
	})
	t.Run("a short body stores nothing", func(t *testing.T) {
		err := s.Put(ctx, conv, "f_short", "image/png", io.MultiReader(bytes.NewReader(pic[:20])), int64(len(pic)))
		if err == nil {
			t.Fatal("Put of 20 bytes announced as more succeeded")
		}
		if _, err := s.Stat(ctx, conv, "f_short"); !errors.Is(err, files.ErrNotFound) {
			t.Errorf("after a failed Put, Stat = %v, want ErrNotFound", err)
		}
	})
	t.Run("bad names are refused", func(t *testing.T) {
		if err := s.Put(ctx, "a/b", "f_x", "image/png", bytes.NewReader(pic), int64(len(pic))); err == nil {
			t.Error("Put under conversation a/b succeeded")
		}
		if err := s.Put(ctx, conv, strings.Repeat("x", 65), "image/png", bytes.NewReader(pic), int64(len(pic))); err == nil {
			t.Error("Put of a 65-character id succeeded")
		}
	})
	t.Run("delete", func(t *testing.T) {
		put(conv, "f_gone", pic)
		if err := s.Delete(ctx, conv, "f_gone"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Stat(ctx, conv, "f_gone"); !errors.Is(err, files.ErrNotFound) {
			t.Errorf("after Delete, Stat = %v", err)
		}
		if err := s.Delete(ctx, conv, "f_gone"); err != nil {
			t.Errorf("deleting again: %v", err)
		}
	})
	t.Run("the URL key is one for every node", func(t *testing.T) {
		k1, err := s.URLKey(ctx)
		if err != nil || len(k1) != 32 {
			t.Fatalf("URLKey = %d bytes, %v", len(k1), err)
		}
		k2, err := again().URLKey(ctx)
		if err != nil || !bytes.Equal(k1, k2) {
			t.Fatalf("a second store on the same place has another key (%v)", err)
		}
	})
	t.Run("a conversation's files go with it", func(t *testing.T) {
		if err := s.DeleteConversation(ctx, conv); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"f_defect", "f_waybill"} {
			if _, err := s.Stat(ctx, conv, id); !errors.Is(err, files.ErrNotFound) {
				t.Errorf("after DeleteConversation, Stat(%s) = %v", id, err)
			}
		}
		if _, err := s.Stat(ctx, other, "f_theirs"); err != nil {
			t.Errorf("another conversation's file went too: %v", err)
		}
		if _, err := s.URLKey(ctx); err != nil {
			t.Errorf("the URL key after deleting a conversation: %v", err)
		}
	})
}

func TestParseS3URL(t *testing.T) {
	for _, tc := range []struct {
		in             string
		bucket, prefix string
		s3, bad        bool
	}{
		{in: "", s3: false},
		{in: "/srv/kefu/photos", s3: false},
		{in: "s3://kefu-photos", bucket: "kefu-photos", s3: true},
		{in: "s3://kefu-photos/shop-a/", bucket: "kefu-photos", prefix: "shop-a/", s3: true},
		{in: "s3://kefu-photos/a/b", bucket: "kefu-photos", prefix: "a/b/", s3: true},
		{in: "s3://", s3: true, bad: true},
		{in: "s3:///prefix", s3: true, bad: true},
	} {
		bucket, prefix, s3, err := files.ParseS3URL(tc.in)
		if s3 != tc.s3 || (err != nil) != tc.bad || bucket != tc.bucket || prefix != tc.prefix {
			t.Errorf("ParseS3URL(%q) = %q, %q, %v, %v", tc.in, bucket, prefix, s3, err)
		}
	}
}
