// module actors
