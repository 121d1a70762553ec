package boltstore_test

import (
	"testing"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/handoff/boltstore"
	"github.com/kefu-im/kefu/handoff/enginetest"
	"github.com/kefu-im/kefu/internal/boltdb/bolttest"
)

func open(t *testing.T) handoff.Engine {
	s, err := boltstore.New(boltstore.Config{DB: bolttest.Open(t)})
	if err != nil {
		t.Fatal(err)
	}
	return s.Engine()
}

func TestContract(t *testing.T) { enginetest.Run(t, open) }
