// Command hnth-smpp runs the SMPP 3.4 test server of github.com/fiorix/go-smpp
// (smpp/smpptest) for HNTH Ops' tests and `make up`, with a handler that behaves like an
// SMSC instead of the package's echo:
//
//   - a bind is checked against -system-id and the password in HNTH_SMPP_PASSWORD
//     (smpptest's own authentication);
//   - every submit_sm is answered with a submit_sm_resp carrying a fresh message_id, and
//     recorded (source, destination, data_coding, text decoded from UCS-2 or the default
//     alphabet, the concatenation header in hex);
//   - when the submit asks for a delivery receipt (registered_delivery bit 0), the
//     receipt follows as a deliver_sm (esm_class 0x04, "id:... stat:DELIVRD ...");
//   - enquire_link and unbind get their responses.
//
// The recorded messages are served as JSON on -http (GET /messages), next to the
// SMPP address the server listens on (GET /: {"smpp": "127.0.0.1:<port>"}; smpptest
// chooses a free loopback port itself).
package main

import (
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/fiorix/go-smpp/smpp/pdu"
	"github.com/fiorix/go-smpp/smpp/pdu/pdufield"
	"github.com/fiorix/go-smpp/smpp/pdu/pdutext"
	"github.com/fiorix/go-smpp/smpp/smpptest"
)

// Message is one submit_sm as received.
type Message struct {
	MessageID   string    `json:"message_id"`
	Source      string    `json:"source"`
	Destination string    `json:"destination"`
	DataCoding  int       `json:"data_coding"`
	Text        string    `json:"text"`
	UDH         string    `json:"udh,omitempty"`
	Receipt     bool      `json:"receipt"`
	ReceivedAt  time.Time `json:"received_at"`
}

type recorder struct {
	mu   sync.Mutex
	seen []Message
}

func (r *recorder) add(m Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, m)
}

func (r *recorder) all() []Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Message{}, r.seen...)
}

func field(f pdufield.Map, name pdufield.Name) string {
	if v, ok := f[name]; ok && v != nil {
		return v.String()
	}
	return ""
}

// text decodes the short message (UCS-2 or as sent) after its user data header, if any
// (esm_class UDHI: a part of a concatenated message), returned in hex.
func text(f pdufield.Map) (string, int, string) {
	coding := 0
	if v, ok := f[pdufield.DataCoding]; ok && v != nil {
		coding = int(v.Bytes()[0])
	}
	sm, ok := f[pdufield.ShortMessage]
	if !ok || sm == nil {
		return "", coding, ""
	}
	body, header := sm.Bytes(), ""
	if v, ok := f[pdufield.ESMClass]; ok && v != nil && v.Bytes()[0]&0x40 != 0 && len(body) > 0 {
		n := int(body[0])
		if n+1 <= len(body) {
			header, body = hex.EncodeToString(body[1:n+1]), body[n+1:]
		}
	}
	if pdutext.DataCoding(coding) == pdutext.UCS2Type {
		return string(pdutext.UCS2(body).Decode()), coding, header
	}
	return string(body), coding, header
}

func receipt(id, source, destination string, at time.Time) pdu.Body {
	stamp := at.UTC().Format("0601021504")
	p := pdu.NewDeliverSM()
	f := p.Fields()
	_ = f.Set(pdufield.SourceAddr, destination)
	_ = f.Set(pdufield.DestinationAddr, source)
	_ = f.Set(pdufield.ESMClass, uint8(0x04))
	// go-smpp lists the concatenation header among deliver_sm's fields and writes a
	// default byte for it when unset; a receipt has none, so both are empty here
	f[pdufield.UDHLength], f[pdufield.GSMUserData] = &pdufield.SM{}, &pdufield.SM{}
	_ = f.Set(pdufield.ShortMessage, fmt.Sprintf(
		"id:%s sub:001 dlvrd:001 submit date:%s done date:%s stat:DELIVRD err:000 text:",
		id, stamp, stamp))
	return p
}

func handler(rec *recorder) smpptest.HandlerFunc {
	var (
		mu   sync.Mutex
		next int
	)
	return func(c smpptest.Conn, m pdu.Body) {
		seq := m.Header().Seq
		switch m.Header().ID {
		case pdu.SubmitSMID:
			mu.Lock()
			next++
			id := fmt.Sprintf("hnth%08d", next)
			mu.Unlock()
			f := m.Fields()
			body, coding, header := text(f)
			asked := false
			if v, ok := f[pdufield.RegisteredDelivery]; ok && v != nil {
				asked = v.Bytes()[0]&0x01 == 0x01
			}
			msg := Message{
				MessageID: id, Source: field(f, pdufield.SourceAddr),
				Destination: field(f, pdufield.DestinationAddr), DataCoding: coding,
				Text: body, UDH: header, Receipt: asked, ReceivedAt: time.Now().UTC(),
			}
			rec.add(msg)
			resp := pdu.NewSubmitSMResp()
			resp.Header().Seq = seq
			_ = resp.Fields().Set(pdufield.MessageID, id)
			if err := c.Write(resp); err != nil {
				log.Println("hnth-smpp: submit_sm_resp:", err)
				return
			}
			if asked {
				_ = c.Write(receipt(id, msg.Source, msg.Destination, msg.ReceivedAt))
			}
		case pdu.EnquireLinkID:
			_ = c.Write(pdu.NewEnquireLinkRespSeq(seq))
		case pdu.UnbindID:
			resp := pdu.NewUnbindResp()
			resp.Header().Seq = seq
			_ = c.Write(resp)
		case pdu.DeliverSMRespID:
			// the client's answer to a receipt: nothing more to say
		default:
			nack := pdu.NewGenericNACK()
			nack.Header().Seq = seq
			nack.Header().Status = 0x00000003 // ESME_RINVCMDID
			_ = c.Write(nack)
		}
	}
}

func main() {
	listen := flag.String("http", "127.0.0.1:0", "where the JSON record is served")
	systemID := flag.String("system-id", "hnth-ops", "the system_id a client binds with")
	flag.Parse()
	password := os.Getenv("HNTH_SMPP_PASSWORD")
	if password == "" {
		log.Fatal("hnth-smpp: HNTH_SMPP_PASSWORD is required")
	}
	rec := &recorder{}
	srv := smpptest.NewUnstartedServer()
	srv.User, srv.Passwd, srv.Handler = *systemID, password, handler(rec)
	srv.Start()
	defer srv.Close()

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"smpp": srv.Addr()})
	})
	mux.HandleFunc("GET /messages", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(rec.all())
	})
	web := &http.Server{Addr: *listen, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := web.ListenAndServe(); err != nil && err != http.ErrServerClosed {
			log.Fatal("hnth-smpp: http:", err)
		}
	}()
	log.Printf("hnth-smpp: SMPP on %s, messages on http://%s/messages", srv.Addr(), *listen)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
}
