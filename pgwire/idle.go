package pgwire

import (
	"errors"
	"net"
	"os"
	"time"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/pgwire/pgwirebase"
)

var errIdleInTxnTimeout = pgcode.New(pgcode.IdleInTransactionSessionTimeout,
	"terminating connection due to idle-in-transaction timeout").Fatal()

// readIdle reads the next message between statements. While the session is
// in a transaction block it bounds the wait by the session's
// idle_in_transaction_session_timeout: when that passes, the session is
// closed first (rolling back and releasing the transaction's locks), so
// that a client seeing 25P03 knows the locks are gone.
func (c *conn) readIdle() (byte, []byte, error) {
	d := c.idleInTxnTimeout()
	if d > 0 {
		if err := c.nc.SetReadDeadline(c.srv.cfg.Now().Add(d)); err != nil {
			return 0, nil, err
		}
	}
	typ, body, err := c.rd.readMessage()
	if d > 0 && err == nil {
		err = c.nc.SetReadDeadline(time.Time{})
	}
	if err == nil {
		return typ, body, nil
	}
	if d > 0 && isTimeout(err) {
		c.closeSession()
		return 0, nil, errIdleInTxnTimeout
	}
	return 0, nil, c.framingError(err)
}

// idleInTxnTimeout is the bound on the wait for the next message: the
// session's idle_in_transaction_session_timeout inside a transaction block,
// 0 (none) otherwise.
func (c *conn) idleInTxnTimeout() time.Duration {
	t, ok := c.sess.(pgwirebase.IdleInTransactionTimeouter)
	if !ok || c.sess.TxnStatus() == pgwirebase.TxnIdle {
		return 0
	}
	return t.IdleInTransactionTimeout()
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}
