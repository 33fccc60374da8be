// Command hnth-oidc runs the OpenID provider of github.com/zitadel/oidc (its example
// server: in-memory storage, a username + password login page, RS256-signed id_tokens,
// authorization code with PKCE) configured for HNTH Ops' tests and `make up`:
//
//   - the issuer is http://<listen>/ (or -issuer);
//   - one confidential web client: -client-id, the secret from HNTH_OIDC_CLIENT_SECRET,
//     -redirect-uris (comma separated);
//   - the people who can sign in come from -users, a JSON file in the example's own
//     format ({"<id>": {"ID", "Username", "Password", "Email", "EmailVerified", ...}}).
//
// The only change to the example's behaviour: the client asks for the userinfo claims
// (email, preferred_username, name) in the id_token, as most production providers send
// them, so a relying party can match a person by the id_token alone.
package main

import (
	"context"
	"errors"
	"flag"
	"log"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// client is the example's web client with the userinfo claims asserted in the id_token
// (our client has no redirect URI globs, so hiding op.HasRedirectGlobs loses nothing).
type client struct{ op.Client }

func (client) IDTokenUserinfoClaimsAssertion() bool { return true }

// provider is the example's in-memory storage handing out `client`s.
type provider struct{ *storage.Storage }

func (p provider) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	found, err := p.Storage.GetClientByClientID(ctx, id)
	if err != nil {
		return nil, err
	}
	return client{found}, nil
}

func main() {
	listen := flag.String("listen", "127.0.0.1:9998", "TCP address to listen on")
	issuer := flag.String("issuer", "", "issuer URL (default http://<listen>/)")
	usersFile := flag.String("users", "", "JSON file of the people who can sign in")
	clientID := flag.String("client-id", "hnth-ops", "the relying party's client id")
	redirects := flag.String("redirect-uris", "", "comma-separated redirect URIs of the client")
	flag.Parse()

	secret := os.Getenv("HNTH_OIDC_CLIENT_SECRET")
	if secret == "" || *usersFile == "" || *redirects == "" {
		log.Fatal("hnth-oidc needs HNTH_OIDC_CLIENT_SECRET, -users and -redirect-uris")
	}
	if *issuer == "" {
		*issuer = "http://" + *listen + "/"
	}
	users, err := storage.StoreFromFile(*usersFile)
	if err != nil {
		log.Fatal(err)
	}
	storage.RegisterClients(storage.WebClient(*clientID, secret, strings.Split(*redirects, ",")...))

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	router := exampleop.SetupServer(*issuer, provider{storage.NewStorage(users)}, logger, false)
	server := &http.Server{Addr: *listen, Handler: router, ReadHeaderTimeout: 10 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = server.Shutdown(shutdown)
	}()
	log.Printf("hnth-oidc: issuer %s, client %s", *issuer, *clientID)
	if err := server.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
