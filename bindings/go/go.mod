module github.com/jwtv/jwtv/bindings/go

go 1.19
