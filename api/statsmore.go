package api

import (
	"net/http"
	"time"

	"github.com/go-dsynth/go-dsynth/builddb"
)

// TodayData is the answer of GET /api/v1/stats/today: the statistics of
// the builds started since the server's local midnight.
type TodayData struct {
	builddb.Stats
	// Since is that midnight (in UTC, as every time of the API); TimeZone
	// and UTCOffset name the server's zone and its offset then ("+01:00").
	Since     time.Time `json:"since"`
	TimeZone  string    `json:"time_zone"`
	UTCOffset string    `json:"utc_offset"`
}

// localMidnight returns the start of now's day in now's location.
func localMidnight(now time.Time) time.Time {
	y, m, d := now.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, now.Location())
}

// statsToday answers GET /api/v1/stats/today. It depends on the clock, so
// it is not kept with the database-only answers.
func (s *Server) statsToday(r *http.Request) (any, error) {
	if _, err := queryOf(r); err != nil {
		return nil, err
	}
	since := localMidnight(s.now())
	out := TodayData{Since: since.UTC(), TimeZone: since.Location().String(), UTCOffset: since.Format("-07:00")}
	var empty builddb.Aggregator
	out.Stats = empty.Stats()
	err := s.withDB(func(db *builddb.DB) error {
		var err error
		out.Stats, err = db.Stats(since, time.Time{})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// PortStats is the answer of GET /api/v1/stats/package/{category}/{port}.
type PortStats struct {
	Package string `json:"package"`
	// Builds counts every record of the port; Successful and Failed those
	// that built or failed; SuccessRate is Successful / (Successful +
	// Failed) in percent (0 without either).
	Builds      int     `json:"builds"`
	Successful  int     `json:"successful"`
	Failed      int     `json:"failed"`
	SuccessRate float64 `json:"success_rate"`
	// AvgDuration, MinDuration and MaxDuration cover the successful
	// builds; LastDuration is the latest successful or failed build's.
	AvgDuration  builddb.Duration `json:"avg_duration"`
	MinDuration  builddb.Duration `json:"min_duration"`
	MaxDuration  builddb.Duration `json:"max_duration"`
	LastDuration builddb.Duration `json:"last_duration"`
	// FirstBuild is the start of the oldest record; LastSuccess and
	// LastFailure the latest of each.
	FirstBuild  time.Time `json:"first_build"`
	LastSuccess *BuildRef `json:"last_success"`
	LastFailure *BuildRef `json:"last_failure"`
}

// portStats computes a port's statistics from its records, newest first.
// It is pure.
func portStats(origin string, recs []*builddb.BuildRecord) PortStats {
	st := PortStats{Package: origin, Builds: len(recs)}
	var total time.Duration
	for _, r := range recs {
		switch r.Status {
		case builddb.StatusSuccess:
			st.Successful++
			total += r.Duration
			if st.Successful == 1 || r.Duration < time.Duration(st.MinDuration) {
				st.MinDuration = builddb.Duration(r.Duration)
			}
			st.MaxDuration = max(st.MaxDuration, builddb.Duration(r.Duration))
			if st.LastSuccess == nil {
				st.LastSuccess = refOf(r)
			}
		case builddb.StatusFailed:
			st.Failed++
			if st.LastFailure == nil {
				st.LastFailure = refOf(r)
			}
		default:
			continue
		}
		if st.Successful+st.Failed == 1 {
			st.LastDuration = builddb.Duration(r.Duration)
		}
	}
	if st.Successful > 0 {
		st.AvgDuration = builddb.Duration(total / time.Duration(st.Successful))
	}
	if n := st.Successful + st.Failed; n > 0 {
		st.SuccessRate = float64(st.Successful) * 100 / float64(n)
	}
	if len(recs) > 0 {
		st.FirstBuild = recs[len(recs)-1].StartTime
	}
	return st
}

// statsPackage answers GET /api/v1/stats/package/{category}/{port} from the
// build database alone (the origin as given: a flavored port's default
// flavor is named with its flavor).
func (s *Server) statsPackage(r *http.Request) (any, error) {
	if _, err := queryOf(r); err != nil {
		return nil, err
	}
	o, err := parseOrigin(r.PathValue("category"), r.PathValue("port"))
	if err != nil {
		return nil, err
	}
	var recs []*builddb.BuildRecord
	err = s.withDB(func(db *builddb.DB) error {
		recs, err = db.PortHistory(o.String(), 0)
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, notBuilt(o.String())
	}
	return portStats(o.String(), recs), nil
}
