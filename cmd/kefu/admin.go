package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/kb"
	"github.com/kefu-im/kefu/knowledge"
	"github.com/rs/zerolog"
	bolt "go.etcd.io/bbolt"
)

// The subcommands that change a node's data (kefu user, token, articles, backup) work
// whether a server runs or not. With Redis they change Redis, which every server reads.
// On the embedded engine only one process may open the database: when no server runs,
// a subcommand opens it itself; while one does, it asks that server through its admin
// socket, a Unix socket in the data directory that only the directory's owner may use
// (kefu.sock, mode 0600). Either way the same operations run (adminOps).

// adminOps are the operations of the subcommands.
type adminOps interface {
	AddUser(ctx context.Context, name, password string, role account.Role, group string) (account.User, error)
	AddToken(ctx context.Context, name string, role account.Role) (account.APIToken, string, error)
	Tokens(ctx context.Context) ([]account.APIToken, error)
	RevokeToken(ctx context.Context, id string) error
	Articles(ctx context.Context) ([]kb.Entry, error)
	Import(ctx context.Context, arts []kb.Article, status string, dryRun bool) (knowledge.ImportPlan, int, error)
	Backup(ctx context.Context, w io.Writer) error
}

// localOps run the operations on storage this process opened.
type localOps struct {
	accounts *account.Service
	articles kb.Store
	db       *bolt.DB // nil on Redis
}

func (o localOps) AddUser(ctx context.Context, name, password string, role account.Role, group string) (account.User, error) {
	return o.accounts.AddUser(ctx, name, password, role, group)
}

func (o localOps) AddToken(ctx context.Context, name string, role account.Role) (account.APIToken, string, error) {
	return o.accounts.AddToken(ctx, name, role, "cli")
}

func (o localOps) Tokens(ctx context.Context) ([]account.APIToken, error) {
	return o.accounts.Tokens(ctx)
}

func (o localOps) RevokeToken(ctx context.Context, id string) error {
	return o.accounts.RevokeToken(ctx, id)
}

func (o localOps) Articles(ctx context.Context) ([]kb.Entry, error) { return o.articles.List(ctx) }

func (o localOps) Import(ctx context.Context, arts []kb.Article, status string, dryRun bool) (knowledge.ImportPlan, int, error) {
	return knowledge.Import(ctx, o.articles, arts, status, "kefu articles import", dryRun)
}

// Backup writes a consistent copy of the embedded database, taken in one read
// transaction while writes go on.
func (o localOps) Backup(ctx context.Context, w io.Writer) error {
	if o.db == nil {
		return errors.New("the data is in Redis: back it up with Redis's own persistence (RDB snapshots or the AOF)")
	}
	return o.db.View(func(tx *bolt.Tx) error {
		_, err := tx.WriteTo(w)
		return err
	})
}

// openOps returns the operations on the configuration's data, and what to call when
// done: on the storage itself, or through the admin socket of the server that holds it.
func openOps(c config) (adminOps, func(), error) {
	groups, err := c.groups()
	if err != nil {
		return nil, nil, err
	}
	s, err := openStorage(c, zerolog.Nop())
	if errors.Is(err, errDataDirInUse) {
		ops, err := dialAdmin(adminSocket(c.DataDir))
		if err != nil {
			return nil, nil, fmt.Errorf("the data directory %s is in use by a kefu server whose admin socket does not answer (%v): stop that server, or name another directory with -data", c.DataDir, err)
		}
		return ops, func() {}, nil
	}
	if err != nil {
		return nil, nil, err
	}
	acc, err := account.New(account.Config{Store: s.accounts, Groups: groups})
	if err != nil {
		s.close()
		return nil, nil, err
	}
	return localOps{accounts: acc, articles: s.articles, db: s.db}, s.close, nil
}

// listenAdmin listens on the admin socket at path, readable and writable by this user
// alone. A socket file left by a server that stopped is replaced.
func listenAdmin(path string) (net.Listener, error) {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("removing an old admin socket: %w", err)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listening on the admin socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

// adminError is an error's answer on the admin socket.
type adminError struct {
	Error    string `json:"error"`
	NotFound bool   `json:"not_found,omitempty"`
}

// adminRoutes are the admin socket's operations, run on the server's own storage.
func adminRoutes(a *app, log zerolog.Logger) http.Handler {
	ops := localOps{accounts: a.accounts, articles: a.storage.articles, db: a.storage.db}
	mux := http.NewServeMux()
	reply := func(w http.ResponseWriter, v any, err error) {
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			status := http.StatusBadRequest
			if errors.Is(err, account.ErrNotFound) {
				status = http.StatusNotFound
			}
			w.WriteHeader(status)
			json.NewEncoder(w).Encode(adminError{Error: err.Error(), NotFound: status == http.StatusNotFound})
			return
		}
		json.NewEncoder(w).Encode(v)
	}
	read := func(w http.ResponseWriter, r *http.Request, v any) bool {
		if err := json.NewDecoder(io.LimitReader(r.Body, 64<<20)).Decode(v); err != nil {
			reply(w, nil, fmt.Errorf("reading the request: %w", err))
			return false
		}
		return true
	}
	mux.HandleFunc("GET /ping", func(w http.ResponseWriter, r *http.Request) { reply(w, "ok", nil) })
	mux.HandleFunc("POST /users", func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Name, Password, Role, Group string }
		if read(w, r, &req) {
			u, err := ops.AddUser(r.Context(), req.Name, req.Password, account.Role(req.Role), req.Group)
			if err == nil {
				log.Info().Str("user", u.Name).Msg("user added on the admin socket")
			}
			u.PassHash = ""
			reply(w, u, err)
		}
	})
	mux.HandleFunc("POST /tokens", func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Name, Role string }
		if read(w, r, &req) {
			t, secret, err := ops.AddToken(r.Context(), req.Name, account.Role(req.Role))
			reply(w, map[string]any{"token": t, "secret": secret}, err)
		}
	})
	mux.HandleFunc("GET /tokens", func(w http.ResponseWriter, r *http.Request) {
		ts, err := ops.Tokens(r.Context())
		reply(w, ts, err)
	})
	mux.HandleFunc("DELETE /tokens/{id}", func(w http.ResponseWriter, r *http.Request) {
		reply(w, "ok", ops.RevokeToken(r.Context(), r.PathValue("id")))
	})
	mux.HandleFunc("GET /articles", func(w http.ResponseWriter, r *http.Request) {
		es, err := ops.Articles(r.Context())
		reply(w, es, err)
	})
	mux.HandleFunc("POST /articles/import", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Articles []kb.Article `json:"articles"`
			Status   string       `json:"status"`
			DryRun   bool         `json:"dry_run"`
		}
		if read(w, r, &req) {
			plan, n, err := ops.Import(r.Context(), req.Articles, req.Status, req.DryRun)
			reply(w, map[string]any{"plan": plan, "saved": n}, err)
		}
	})
	mux.HandleFunc("GET /backup", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		if err := ops.Backup(r.Context(), w); err != nil {
			log.Error().Err(err).Msg("backup on the admin socket")
		}
	})
	return mux
}

// socketOps run the operations through a server's admin socket.
type socketOps struct{ c *http.Client }

// dialAdmin returns the operations of the server listening on the admin socket at path.
func dialAdmin(path string) (socketOps, error) {
	o := socketOps{c: &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{Timeout: 2 * time.Second}).DialContext(ctx, "unix", path)
		},
	}}}
	var ok string
	return o, o.call(context.Background(), "GET", "/ping", nil, &ok)
}

// call sends a request to the socket and decodes the answer into out.
func (o socketOps) call(ctx context.Context, method, path string, in, out any) error {
	resp, err := o.request(ctx, method, path, in)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(out)
}

func (o socketOps) request(ctx context.Context, method, path string, in any) (*http.Response, error) {
	var body io.Reader
	if in != nil {
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(json.NewEncoder(pw).Encode(in)) }()
		body = pr
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://kefu"+path, body)
	if err != nil {
		return nil, err
	}
	resp, err := o.c.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		var e adminError
		if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
			return nil, fmt.Errorf("the server answered %s", resp.Status)
		}
		if e.NotFound {
			return nil, fmt.Errorf("%s: %w", e.Error, account.ErrNotFound)
		}
		return nil, errors.New(e.Error)
	}
	return resp, nil
}

func (o socketOps) AddUser(ctx context.Context, name, password string, role account.Role, group string) (account.User, error) {
	var u account.User
	err := o.call(ctx, "POST", "/users", map[string]string{"name": name, "password": password, "role": string(role), "group": group}, &u)
	return u, err
}

func (o socketOps) AddToken(ctx context.Context, name string, role account.Role) (account.APIToken, string, error) {
	var out struct {
		Token  account.APIToken `json:"token"`
		Secret string           `json:"secret"`
	}
	err := o.call(ctx, "POST", "/tokens", map[string]string{"name": name, "role": string(role)}, &out)
	return out.Token, out.Secret, err
}

func (o socketOps) Tokens(ctx context.Context) ([]account.APIToken, error) {
	var ts []account.APIToken
	err := o.call(ctx, "GET", "/tokens", nil, &ts)
	return ts, err
}

func (o socketOps) RevokeToken(ctx context.Context, id string) error {
	var ok string
	return o.call(ctx, "DELETE", "/tokens/"+id, nil, &ok)
}

func (o socketOps) Articles(ctx context.Context) ([]kb.Entry, error) {
	var es []kb.Entry
	err := o.call(ctx, "GET", "/articles", nil, &es)
	return es, err
}

func (o socketOps) Import(ctx context.Context, arts []kb.Article, status string, dryRun bool) (knowledge.ImportPlan, int, error) {
	var out struct {
		Plan  knowledge.ImportPlan `json:"plan"`
		Saved int                  `json:"saved"`
	}
	err := o.call(ctx, "POST", "/articles/import", map[string]any{"articles": arts, "status": status, "dry_run": dryRun}, &out)
	return out.Plan, out.Saved, err
}

func (o socketOps) Backup(ctx context.Context, w io.Writer) error {
	resp, err := o.request(ctx, "GET", "/backup", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(w, resp.Body)
	return err
}
