package boltstore_test

import (
	"testing"

	"github.com/kefu-im/kefu/handoff/boltstore"
	"github.com/kefu-im/kefu/handoff/enginetest"
	"github.com/kefu-im/kefu/internal/boltdb/bolttest"
)

func open(t *testing.T) enginetest.Engine {
	s, err := boltstore.New(boltstore.Config{DB: bolttest.Open(t)})
	if err != nil {
		t.Fatal(err)
	}
	return enginetest.Engine{Conversations: s, Roster: s, Annals: s, Bus: s, Tickets: s}
}

func TestContract(t *testing.T) { enginetest.Run(t, open) }
